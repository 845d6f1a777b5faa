#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <ncursesw/ncurses.h>

// Function-like macros of ncurses are not visible to Swift; these wrap them.
static inline int nc_color_pair(int n) { return COLOR_PAIR(n); }
static inline int nc_lines(void) { return LINES; }
static inline int nc_cols(void) { return COLS; }
static inline int nc_colors(void) { return COLORS; }
static inline WINDOW *nc_stdscr(void) { return stdscr; }
/// newterm on the process's own stdout and stdin (C globals Swift 6 will not read).
static inline SCREEN *nc_newterm_stdio(void) { return newterm(NULL, stdout, stdin); }
static inline WINDOW *nc_curscr(void) { return curscr; }
static inline int nc_key_f(int n) { return KEY_F(n); }

static inline int nc_attr_normal(void) { return (int)A_NORMAL; }
static inline int nc_attr_bold(void) { return (int)A_BOLD; }
static inline int nc_attr_reverse(void) { return (int)A_REVERSE; }
static inline int nc_attr_dim(void) { return (int)A_DIM; }
static inline int nc_attr_underline(void) { return (int)A_UNDERLINE; }

static inline int nc_attrset(int attributes) { return wattrset(stdscr, attributes); }
/// Writes a UTF-8 string at (y, x); ncursesw decodes it in the current (UTF-8) locale.
static inline int nc_put(int y, int x, const char *text) { return mvwaddstr(stdscr, y, x, text); }
static inline int nc_move(int y, int x) { return wmove(stdscr, y, x); }
static inline int nc_get_wch(wint_t *ch) { return wget_wch(stdscr, ch); }
static inline int nc_code_yes(void) { return KEY_CODE_YES; }
static inline int nc_key_mouse(void) { return KEY_MOUSE; }
/// The terminal's size from the kernel (after SIGWINCH); 0 on success.
static inline int nc_window_size(int *rows, int *cols) {
    struct winsize size;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *cols = size.ws_col;
    return 0;
}
#endif
