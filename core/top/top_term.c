/* `sluice top`: the terminal, with termios and ANSI escapes only (what
 * every terminal and SSH session speaks; no curses to build against):
 * raw keys, the alternate screen, frames drawn over the last one, and
 * SIGWINCH, SIGINT, SIGTERM and SIGHUP through a self-pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "top.h"

static struct termios saved;
static int entered, raw;
static int wake[2] = {-1, -1};
static volatile sig_atomic_t quit_signal;

static void
write_all(const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(STDOUT_FILENO, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

static void
on_signal(int sig)
{
    int saved_errno = errno;
    if (sig != SIGWINCH)
        quit_signal = sig;
    char c = (char)sig;
    if (write(wake[1], &c, 1) < 0) {
        /* the pipe is full: a wake-up is pending anyway */
    }
    errno = saved_errno;
}

int
top_term_enter(void)
{
    if (pipe(wake) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        fcntl(wake[i], F_SETFL, fcntl(wake[i], F_GETFL) | O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, NULL);
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios t = saved;
        t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;
        raw = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
    }
    entered = 1;
    atexit(top_term_leave);
    /* The alternate screen, no cursor, no line wrap. */
    static const char enter[] = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H\x1b[2J";
    write_all(enter, sizeof enter - 1);
    return 0;
}

void
top_term_leave(void)
{
    if (!entered)
        return;
    entered = 0;
    static const char leave[] = "\x1b[?7h\x1b[?25h\x1b[?1049l";
    write_all(leave, sizeof leave - 1);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    raw = 0;
}

void
top_term_size(int *width, int *height)
{
    struct winsize ws;
    *width = 80;
    *height = 24;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        *width = ws.ws_col;
        *height = ws.ws_row;
    }
}

int
top_term_wait(int ms)
{
    struct pollfd fds[2] = {{wake[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int n = poll(fds, raw ? 2 : 1, ms);
    if (quit_signal)
        return -1;
    if (n <= 0)
        return 0;
    if (fds[0].revents & POLLIN) {
        char drain[64];
        while (read(wake[0], drain, sizeof drain) > 0) {
        }
        return quit_signal ? -1 : 0;
    }
    if (!(fds[1].revents & (POLLIN | POLLHUP)))
        return 0;
    unsigned char keys[32];
    ssize_t k = read(STDIN_FILENO, keys, sizeof keys);
    if (k == 0) /* the terminal is gone */
        return -1;
    /* An escape sequence (arrows, function keys) is not a key of ours. */
    return k < 0 || keys[0] == 0x1b ? 0 : keys[0];
}

void
top_term_draw(const char *lines, size_t len)
{
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_buf_append(&b, "\x1b[H", 3);
    for (size_t i = 0; i < len; i++) {
        if (lines[i] == '\n') {
            /* Clear what the last frame left on the line, then go on. */
            sluice_buf_append(&b, "\x1b[K", 3);
            if (i + 1 < len)
                sluice_buf_append(&b, "\r\n", 2);
        } else {
            sluice_buf_putc(&b, lines[i]);
        }
    }
    sluice_buf_append(&b, "\x1b[J", 3);
    write_all(b.data, b.len);
    sluice_buf_free(&b);
}
