#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/ncurses.h>

// Function-like macros of ncurses are not visible to Swift; these wrap them.
static inline int nc_color_pair(int n) { return COLOR_PAIR(n); }
static inline int nc_lines(void) { return LINES; }
static inline int nc_cols(void) { return COLS; }
static inline WINDOW *nc_stdscr(void) { return stdscr; }
#endif
