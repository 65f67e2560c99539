/*
 * A progress bar for file transfers: "name  [#####-----]  45%  4.5 MB/10 MB
 * 2.1 MB/s  ETA 0:03", redrawn in place with \r on stderr. Only on a
 * terminal: a redirected stderr gets no control characters, and the
 * transfer's outcome is said by the caller's one-line message either way.
 */
#include "progress.h"

#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define REDRAW_MS 100

void xt_cli_format_size(char *buf, size_t len, uint64_t b)
{
    static const char *const unit[] = {"kB", "MB", "GB", "TB"};
    if (b < 1000) {
        snprintf(buf, len, "%llu B", (unsigned long long)b);
        return;
    }
    double v = (double)b / 1000.0;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < sizeof unit / sizeof *unit) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, len, v < 10.0 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void xt_cli_progress_format(char *buf, size_t len, const char *label, uint64_t done, uint64_t total,
                            uint64_t elapsed_ms, int width)
{
    char d[16], t[16], rate[32] = "", eta[48] = "", bar[64] = "";
    xt_cli_format_size(d, sizeof d, done);
    xt_cli_format_size(t, sizeof t, total);
    if (elapsed_ms >= 500 && done > 0) {
        uint64_t bps = done * 1000 / elapsed_ms;
        char r[16];
        xt_cli_format_size(r, sizeof r, bps);
        snprintf(rate, sizeof rate, "  %s/s", r);
        if (total > done && bps > 0) {
            uint64_t s = (total - done) / bps;
            if (s >= 3600)
                snprintf(eta, sizeof eta, "  ETA %llu:%02llu:%02llu",
                         (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
                         (unsigned long long)(s % 60));
            else
                snprintf(eta, sizeof eta, "  ETA %llu:%02llu", (unsigned long long)(s / 60),
                         (unsigned long long)(s % 60));
        }
    }
    unsigned pct = total ? (unsigned)(done >= total ? 100 : done * 100 / total) : 0;
    /* The bar takes what the numbers leave, within 10..40 columns. */
    char nums[160];
    if (total)
        snprintf(nums, sizeof nums, "%3u%%  %s / %s%s%s", pct, d, t, rate, eta);
    else
        snprintf(nums, sizeof nums, "%s%s", d, rate);
    int room = width - (int)strlen(label) - (int)strlen(nums) - 8;
    if (total && room >= 10) {
        int n = room > 40 ? 40 : room;
        int fill = (int)((uint64_t)n * pct / 100);
        bar[0] = '[';
        for (int i = 0; i < n; i++)
            bar[1 + i] = i < fill ? '#' : '-';
        bar[1 + n] = ']';
        bar[2 + n] = '\0';
    }
    snprintf(buf, len, "%s  %s%s%s", label, bar, bar[0] ? "  " : "", nums);
    if (width > 0 && (size_t)width < len && strlen(buf) >= (size_t)width)
        buf[width - 1] = '\0'; /* never wrap: \r would redraw only the last row */
}

void xt_cli_progress_start(xt_cli_progress *p, const char *label, uint64_t total, uint64_t now_ms)
{
    memset(p, 0, sizeof *p);
    if (!isatty(2))
        return;
    p->out = stderr;
    const char *base = strrchr(label, '/');
    base = base ? base + 1 : label;
    size_t n = strlen(base);
    if (n >= sizeof p->label) /* keep the end: the extension says most */
        snprintf(p->label, sizeof p->label, "...%s", base + n - (sizeof p->label - 4));
    else
        snprintf(p->label, sizeof p->label, "%s", base);
    /* Only printable ASCII of the name goes to the terminal. */
    for (char *c = p->label; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    struct winsize ws;
    p->width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
    p->total = total;
    p->start_ms = now_ms;
}

void xt_cli_progress_update(xt_cli_progress *p, uint64_t done, uint64_t now_ms)
{
    if (!p->out || (p->drawn && now_ms - p->last_ms < REDRAW_MS && done < p->total))
        return;
    char line[512];
    xt_cli_progress_format(line, sizeof line, p->label, done, p->total, now_ms - p->start_ms,
                           p->width);
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->drawn = 1;
    p->last_ms = now_ms;
}

void xt_cli_progress_clear(xt_cli_progress *p)
{
    if (p->out && p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->drawn = 0;
}
