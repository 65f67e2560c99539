/* Time stamps and day separators for the chat screen (chat_time.h). */
#include "chat_time.h"

#include <stdio.h>
#include <time.h>

/* ms -> local broken-down time; 0 on failure. Floor division: a time
 * before 1970 is in the second before, not after. */
static int local_tm(int64_t ts_ms, struct tm *tm)
{
    int64_t s = ts_ms / 1000 - (ts_ms % 1000 < 0 ? 1 : 0);
    time_t t = (time_t)s;
    return (int64_t)t == s && localtime_r(&t, tm) != NULL;
}

const char *xt_chat_time_stamp(int64_t ts_ms, int64_t now_ms, xt_chat_time_style style, char *buf,
                               size_t cap)
{
    struct tm tm, now;
    size_t n;

    if (cap == 0)
        return buf;
    if (!local_tm(ts_ms, &tm)) {
        snprintf(buf, cap, "--:--");
        return buf;
    }
    if (style == XT_CHAT_TIME_FULL)
        n = strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
    else if (local_tm(now_ms, &now) && now.tm_year == tm.tm_year && now.tm_yday == tm.tm_yday)
        /* The date only where it is not today's: most lines are, and
         * the time alone keeps them short. */
        n = strftime(buf, cap, "%H:%M", &tm);
    else
        n = strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
    if (n == 0)
        snprintf(buf, cap, "--:--");
    return buf;
}

int32_t xt_chat_day(int64_t ts_ms)
{
    struct tm tm;
    if (!local_tm(ts_ms, &tm))
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

const char *xt_chat_day_label(int64_t ts_ms, char *buf, size_t cap)
{
    struct tm tm;
    char day[64];

    if (cap == 0)
        return buf;
    if (!local_tm(ts_ms, &tm) || strftime(day, sizeof day, "%A %Y-%m-%d", &tm) == 0)
        snprintf(day, sizeof day, "another day");
    snprintf(buf, cap, "--- %s ---", day);
    return buf;
}
