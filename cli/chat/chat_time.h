/*
 * chat_time.h -- how `xtalk chat` shows time: the stamp in front of each
 * line, the day-change separator lines of a conversation window, and the
 * full stamp of a search result. Pure functions of a time and "now" in
 * the local time zone (TZ); tests/unit/test_chat_time.c runs them with
 * TZ=UTC and a fixed now.
 */
#ifndef XT_CLI_CHAT_TIME_H
#define XT_CLI_CHAT_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    XT_CHAT_TIME_SHORT, /* "HH:MM" today, else "YYYY-MM-DD HH:MM" */
    XT_CHAT_TIME_FULL,  /* "YYYY-MM-DD HH:MM:SS" always (search results) */
} xt_chat_time_style;

/* Longest stamp and separator, with the NUL. */
#define XT_CHAT_STAMP_MAX     32
#define XT_CHAT_DAY_LABEL_MAX 96

/* The stamp of ts_ms (ms since the epoch) as seen at now_ms, into buf
 * (cap >= XT_CHAT_STAMP_MAX); "--:--" for a time the C library cannot
 * convert. Returns buf. */
const char *xt_chat_time_stamp(int64_t ts_ms, int64_t now_ms, xt_chat_time_style style, char *buf,
                               size_t cap);
/* The local calendar day of ts_ms as YYYYMMDD, 0 when unknown: equal
 * values, same day. */
int32_t xt_chat_day(int64_t ts_ms);
/* The text of the separator line before the first message of ts_ms's
 * day: "--- Monday 2026-11-30 ---" (the weekday in the locale's
 * language). Returns buf (cap >= XT_CHAT_DAY_LABEL_MAX). */
const char *xt_chat_day_label(int64_t ts_ms, char *buf, size_t cap);

#endif
