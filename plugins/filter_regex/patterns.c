/* The built-in patterns: the access and error log formats of Apache and
 * nginx, and syslog lines as rsyslog writes them to files. */
#include <string.h>

#include <sluice/buf.h>

#include "patterns.h"

/* The inside of a double-quoted field in which \" is an escaped quote and
 * \\ an escaped backslash (Apache's %r and %{..}i; nginx writes \x22). */
#define QUOTED "(?:[^\"\\\\]++|\\\\.)*+"
/* A request line token: no space, quote or unescaped backslash. Both are
 * possessive: nothing before a quote or a space can match otherwise, so
 * backtracking into them would only cost time. */
#define TOKEN "(?:[^ \"\\\\]++|\\\\.)++"

#define COMMON                                                                                     \
    "^(?<host>\\S+) (?<ident>\\S+) (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "                          \
    "\"(?<method>" TOKEN ")(?: +(?<path>" TOKEN "))?(?: +(?<protocol>" QUOTED "))?\" "             \
    "(?<status>\\d{3}) (?<bytes>\\d+|-)"

#define COMBINED COMMON " \"(?<referer>" QUOTED ")\" \"(?<agent>" QUOTED ")\""

#define ACCESS_TIME "time", "%d/%b/%Y:%H:%M:%S %z", "UTC", "status:int,bytes:int"

const regex_builtin regex_builtins[] = {
    /* LogFormat "%h %l %u %t \"%r\" %>s %b" common */
    {"apache_common", COMMON, ACCESS_TIME},
    /* LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"" combined;
     * nginx's log_format combined is the same. A built-in at the end of a
     * pattern must reach the end of the line (regex_expand); fields an
     * operator appended (%D, $request_time) are matched by what follows it. */
    {"apache_combined", COMBINED, ACCESS_TIME},
    {"nginx_combined", COMBINED, ACCESS_TIME},
    /* Apache 2.4 ErrorLogFormat default:
     * [Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416]
     * [client 72.15.99.187:1234] AH00124: message */
    {"apache_error",
     "^\\[(?<time>[^\\]]+)\\] \\[(?:(?<module>[^:\\]]+):)?(?<level>[^\\]]+)\\]"
     "(?: \\[pid (?<pid>\\d+)(?::tid (?<tid>\\d+))?\\])?(?: \\[client (?<client>[^\\]]+)\\])?"
     " (?<message>.*)$",
     "time", "%a %b %d %H:%M:%S %Y", "local", "pid:int,tid:int"},
    /* nginx error.log: 2026/11/26 10:00:00 [error] 123#0: *5 message */
    {"nginx_error",
     "^(?<time>\\d{4}/\\d{2}/\\d{2} \\d{2}:\\d{2}:\\d{2}) \\[(?<level>\\w+)\\] "
     "(?<pid>\\d+)#(?<tid>\\d+): (?:\\*(?<connection>\\d+) )?(?<message>.*)$",
     "time", "%Y/%m/%d %H:%M:%S", "local", "pid:int,tid:int,connection:int"},
    /* RFC 3164 style, as in /var/log/syslog: Nov  6 01:02:03 host app[42]: text */
    {"syslog",
     "^(?<time>[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2}) (?<host>\\S+) "
     "(?<ident>[^\\s\\[:]+)(?:\\[(?<pid>\\d+)\\])?: (?<message>.*)$",
     "time", "%b %e %H:%M:%S", "local", "pid:int"},
    /* rsyslog's RSYSLOG_FileFormat (Debian 12's default): an RFC 3339 time. */
    {"syslog_iso",
     "^(?<time>\\d{4}-\\d{2}-\\d{2}T\\S+) (?<host>\\S+) "
     "(?<ident>[^\\s\\[:]+)(?:\\[(?<pid>\\d+)\\])?: (?<message>.*)$",
     "time", "%Y-%m-%dT%H:%M:%S%z", "UTC", "pid:int"},
    {0},
};

const regex_builtin *
regex_builtin_find(const char *name, size_t len)
{
    for (const regex_builtin *b = regex_builtins; b->name; b++)
        if (strlen(b->name) == len && memcmp(b->name, name, len) == 0)
            return b;
    return NULL;
}

char *
regex_expand(const char *pattern, const regex_builtin **used, const char **bad)
{
    sluice_buf out = SLUICE_BUF_INIT;
    const char *p = pattern;
    while (*p) {
        const char *end;
        if (p[0] == '%' && p[1] == '{' && (end = strchr(p + 2, '}'))) {
            const regex_builtin *b = regex_builtin_find(p + 2, (size_t)(end - p - 2));
            if (!b) {
                *bad = p;
                sluice_buf_free(&out);
                return NULL;
            }
            size_t n = strlen(b->regex);
            sluice_buf_append(&out, b->regex, n);
            /* Last in the pattern: the whole line or nothing, so that a
             * line cut short is not half-matched. */
            if (end[1] == '\0' && b->regex[n - 1] != '$')
                sluice_buf_putc(&out, '$');
            *used = b;
            p = end + 1;
            continue;
        }
        sluice_buf_putc(&out, *p++);
    }
    sluice_buf_putc(&out, '\0');
    return out.data;
}
