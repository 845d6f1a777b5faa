/// The lab's Python programs, written the way the lab writes them, as peers for `netconsole lab` and the real
/// commands. Port and file come from argv; servers print "listening on HOST:PORT" so tests can use port 0.
enum LabPython {
    static let echoServer = """
    import socket, sys
    server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server_socket.bind(('127.0.0.1', int(sys.argv[1])))
    server_socket.listen(1)
    print('listening on %s:%d' % server_socket.getsockname(), flush=True)
    conn, addr = server_socket.accept()
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.sendall(data)
    conn.close()
    server_socket.close()
    """

    /// An echo server that answers with more than it got: every block followed by the bytes of hex argv[2], and
    /// the bytes of hex argv[3] once the client has closed its side.
    static let echoServerWithExtraBytes = """
    import socket, sys
    extra, at_end = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
    server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server_socket.bind(('127.0.0.1', int(sys.argv[1])))
    server_socket.listen(1)
    print('listening on %s:%d' % server_socket.getsockname(), flush=True)
    conn, addr = server_socket.accept()
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.sendall(data + extra)
    conn.sendall(at_end)
    conn.close()
    """

    static let echoClient = """
    import socket, sys
    client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client_socket.connect(('127.0.0.1', int(sys.argv[1])))
    while True:
        try:
            message = input()
        except EOFError:
            break
        if message == 'exit':
            break
        client_socket.sendall(message.encode())
        data = b''
        while len(data) < len(message.encode()):
            block = client_socket.recv(1024)
            if not block:
                break
            data += block
        print(data.decode(), flush=True)
    client_socket.close()
    """

    /// Sends the file argv[2] from a second thread while reading the echo, so neither side's buffers fill up;
    /// writes the echo to stdout.
    static let bulkEchoClient = """
    import socket, sys, threading
    data = open(sys.argv[2], 'rb').read()
    client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client_socket.connect(('127.0.0.1', int(sys.argv[1])))
    def send():
        client_socket.sendall(data)
        client_socket.shutdown(socket.SHUT_WR)
    threading.Thread(target=send).start()
    blocks = []
    while True:
        block = client_socket.recv(1024)
        if not block:
            break
        blocks.append(block)
    sys.stdout.buffer.write(b''.join(blocks))
    client_socket.close()
    """

    static let fileServer = """
    import socket, sys
    server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server_socket.bind(('127.0.0.1', int(sys.argv[1])))
    server_socket.listen(1)
    print('listening on %s:%d' % server_socket.getsockname(), flush=True)
    conn, addr = server_socket.accept()
    with open(sys.argv[2], 'wb') as f:
        while True:
            data = conn.recv(1024)
            if not data:
                break
            f.write(data)
    conn.close()
    server_socket.close()
    """

    static let fileClient = """
    import socket, sys
    client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client_socket.connect(('127.0.0.1', int(sys.argv[1])))
    with open(sys.argv[2], 'rb') as f:
        while True:
            data = f.read(1024)
            if not data:
                break
            client_socket.sendall(data)
    client_socket.close()
    """
}
