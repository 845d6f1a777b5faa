#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
// Linux-only calls that Swift's Glibc module leaves out (they sit behind _GNU_SOURCE there).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
extern int pipe2(int fds[2], int flags);

#ifndef SYNC_FILE_RANGE_WRITE
#define SYNC_FILE_RANGE_WRITE 2
#endif
extern int sync_file_range(int fd, __off64_t offset, __off64_t count, unsigned int flags);
// fallocate(2) and its mode bits (linux/falloc.h).
extern int fallocate(int fd, int mode, __off64_t offset, __off64_t len);
#define CLINUX_FALLOC_FL_KEEP_SIZE 0x01

// O_TMPFILE and AT_EMPTY_PATH are GNU extensions; the values are the kernel's ABI.
#define CLINUX_O_TMPFILE 0x410000
#define CLINUX_AT_EMPTY_PATH 0x1000
// The kernel's struct tcp_info (linux/tcp.h) up to tcpi_delivery_rate. Glibc's netinet/tcp.h has an older, shorter
// copy and linux/tcp.h clashes with it, so the fields are spelled out here; the two bit-field bytes are read whole.
// getsockopt copies min(asked, kernel's size), so an older kernel leaves the newer fields zero.
#include <stdint.h>
#include <sys/ioctl.h>
struct clinux_tcp_info {
    uint8_t tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes, tcpi_backoff, tcpi_options;
    uint8_t tcpi_wscale, tcpi_flags;
    uint32_t tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
    uint32_t tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans, tcpi_fackets;
    uint32_t tcpi_last_data_sent, tcpi_last_ack_sent, tcpi_last_data_recv, tcpi_last_ack_recv;
    uint32_t tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh, tcpi_snd_cwnd, tcpi_advmss,
             tcpi_reordering;
    uint32_t tcpi_rcv_rtt, tcpi_rcv_space;
    uint32_t tcpi_total_retrans;
    uint64_t tcpi_pacing_rate, tcpi_max_pacing_rate, tcpi_bytes_acked, tcpi_bytes_received;
    uint32_t tcpi_segs_out, tcpi_segs_in;
    uint32_t tcpi_notsent_bytes, tcpi_min_rtt, tcpi_data_segs_in, tcpi_data_segs_out;
    uint64_t tcpi_delivery_rate;
};
#define CLINUX_TCP_INFO 11
// SIOCINQ and SIOCOUTQ (linux/sockios.h): bytes not yet read, and bytes not yet acknowledged by the peer.
#define CLINUX_SIOCINQ 0x541B
#define CLINUX_SIOCOUTQ 0x5411
// ioctl is variadic, which Swift cannot call.
static inline int clinux_ioctl_int(int fd, unsigned long request, int *value) { return ioctl(fd, request, value); }
#endif
