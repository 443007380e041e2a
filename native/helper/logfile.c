/*
 * The container log, written by the monitor as the container's output passes through it
 * (native/PROTOCOL.md, spec key `log`). Two formats:
 *   json-file  Docker's: one {"log":"...","stream":"stdout","time":"RFC3339Nano"} per line
 *   k8s-file   Podman's (the CRI format): "TIME STREAM F|P TEXT"
 * Lines are cut as Docker's log copier cuts them: at each newline, or as a partial entry (no
 * "\n" in json-file, P in k8s-file) when 16 KiB arrive without one, and whatever is left when
 * a stream ends. With max-size the file is rotated (FILE -> FILE.1 -> ... FILE.<max-file - 1>)
 * before an entry is written to a file that has reached max-size, as Docker does.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (16 * 1024) /* Docker's copier buffer: a longer line is logged in parts */
#define OUT_BUF (256 * 1024)

enum log_format { LOG_JSON, LOG_K8S };

static struct {
  int fd; /* -1: not logging */
  enum log_format format;
  const char *path;
  long long max_size; /* <= 0: unlimited */
  int max_files;
  long long size; /* of the current file, including what is buffered (put counts it) */
  size_t line_len[3];
  char *out; /* encoded entries not yet written */
  size_t out_len;
} lg = {.fd = -1};
/* Out of `lg`, whose initializer puts it in the helper's file (.data): there the 48 KB would be
 * copied into every sealed memfd and its pages resident in every monitor; here (.bss) they are
 * zero pages until a container writes a line. */
static char lg_line[3][LINE_MAX_BYTES]; /* the pending partial line of stdout (1) and stderr (2) */

static void flush_out(void) {
  size_t off = 0;
  while (off < lg.out_len) {
    ssize_t w = write(lg.fd, lg.out + off, lg.out_len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      break; /* a full disk loses log lines; it must not stop the container */
    }
    off += w;
  }
  lg.out_len = 0;
}

static void open_current(void) {
  lg.fd = open(lg.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (lg.fd < 0) die("monitor: cannot open the container log %s: %s", lg.path, strerror(errno));
  struct stat st;
  lg.size = fstat(lg.fd, &st) == 0 ? st.st_size : 0;
}

/* FILE.(n-2) -> FILE.(n-1), ..., FILE -> FILE.1; with max-file 1 the file starts over. */
static void rotate(void) {
  flush_out();
  close(lg.fd);
  char from[4096], to[4096];
  if (lg.max_files <= 1) {
    if (truncate(lg.path, 0) < 0) {
    }
  } else {
    for (int i = lg.max_files - 1; i >= 1; i--) {
      snprintf(to, sizeof to, "%s.%d", lg.path, i);
      if (i == 1) snprintf(from, sizeof from, "%s", lg.path);
      else snprintf(from, sizeof from, "%s.%d", lg.path, i - 1);
      rename(from, to);
    }
  }
  open_current();
}

void log_open(const char *format, const char *path, long long max_size, int max_files) {
  if (!strcmp(format, "json-file")) lg.format = LOG_JSON;
  else if (!strcmp(format, "k8s-file")) lg.format = LOG_K8S;
  else die("monitor: unknown log format %s", format);
  lg.path = path;
  lg.max_size = max_size;
  lg.max_files = max_files < 1 ? 1 : max_files;
  lg.out = xmalloc(OUT_BUF);
  open_current();
}

static void put(const char *p, size_t n) {
  lg.size += n;
  if (lg.out_len + n > OUT_BUF) flush_out();
  if (n > OUT_BUF) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = write(lg.fd, p + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return;
      off += w;
    }
    return;
  }
  memcpy(lg.out + lg.out_len, p, n);
  lg.out_len += n;
}

/* Go's time.RFC3339Nano in UTC: fraction without trailing zeros, "Z". */
static size_t json_time(char *buf, const struct timespec *ts) {
  struct tm tm;
  gmtime_r(&ts->tv_sec, &tm);
  size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ts->tv_nsec) {
    char frac[16];
    snprintf(frac, sizeof frac, ".%09ld", ts->tv_nsec);
    size_t f = strlen(frac);
    while (frac[f - 1] == '0') f--;
    memcpy(buf + n, frac, f);
    n += f;
  }
  buf[n++] = 'Z';
  return n;
}

/* conmon's: local time with nanoseconds and a numeric zone. */
static size_t k8s_time(char *buf, const struct timespec *ts) {
  struct tm tm;
  localtime_r(&ts->tv_sec, &tm);
  size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff / 60;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  n += snprintf(buf + n, 32, ".%09ld%c%02ld:%02ld", ts->tv_nsec, sign, off / 60, off % 60);
  return n;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t avail) {
  unsigned c = p[0];
  size_t n;
  unsigned min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) { n = 2; min = 0x80; c &= 0x1f; }
  else if ((c & 0xf0) == 0xe0) { n = 3; min = 0x800; c &= 0x0f; }
  else if ((c & 0xf8) == 0xf0) { n = 4; min = 0x10000; c &= 0x07; }
  else return 0;
  if (n > avail) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (p[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return n;
}

/* The text as a JSON string body, escaped as Go's encoder does (HTML-safe, invalid UTF-8 as U+FFFD). */
static void put_json_string(const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  size_t plain = 0; /* start of the run of bytes that need no escaping */
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    const char *esc = NULL;
    char u[8];
    size_t adv = 1;
    if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x80) {
      i++;
      continue;
    }
    if (c == '"') esc = "\\\"";
    else if (c == '\\') esc = "\\\\";
    else if (c == '\n') esc = "\\n";
    else if (c == '\r') esc = "\\r";
    else if (c == '\t') esc = "\\t";
    else if (c < 0x80) {
      memcpy(u, "\\u00", 4);
      u[4] = hex[c >> 4];
      u[5] = hex[c & 15];
      u[6] = 0;
      esc = u;
    } else {
      adv = utf8_len(p + i, n - i);
      if (adv == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
        esc = p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
      else if (adv) {
        i += adv;
        continue;
      } else {
        esc = "\\ufffd";
        adv = 1;
      }
    }
    put(s + plain, i - plain);
    put(esc, strlen(esc));
    i += adv;
    plain = i;
  }
  put(s + plain, n - plain);
}

/* One entry: TEXT (without its newline) and whether the line ended there. */
static void write_entry(int stream, const char *text, size_t n, int complete, const struct timespec *ts) {
  if (lg.max_size > 0 && lg.size >= lg.max_size) rotate();
  char t[48];
  const char *name = stream == 2 ? "stderr" : "stdout";
  if (lg.format == LOG_JSON) {
    put("{\"log\":\"", 8);
    put_json_string(text, n);
    if (complete) put("\\n", 2);
    put("\",\"stream\":\"", 12);
    put(name, 6);
    put("\",\"time\":\"", 10);
    put(t, json_time(t, ts));
    put("\"}\n", 3);
  } else {
    put(t, k8s_time(t, ts));
    put(" ", 1);
    put(name, 6);
    put(complete ? " F " : " P ", 3);
    put(text, n);
    put("\n", 1);
  }
}

void log_output(int stream, const char *buf, size_t n) {
  if (lg.fd < 0 || (stream != 1 && stream != 2)) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char *line = lg_line[stream];
  size_t *len = &lg.line_len[stream];
  while (n > 0) {
    const char *nl = memchr(buf, '\n', n);
    size_t take = nl ? (size_t)(nl - buf) : n;
    if (*len == 0 && nl && take <= LINE_MAX_BYTES) {
      /* the common case: a whole line in this read, written without copying it */
      write_entry(stream, buf, take, 1, &ts);
      buf += take + 1;
      n -= take + 1;
      continue;
    }
    size_t room = LINE_MAX_BYTES - *len;
    size_t part = take < room ? take : room;
    memcpy(line + *len, buf, part);
    *len += part;
    buf += part;
    n -= part;
    if (*len == LINE_MAX_BYTES && !(nl && part == take)) {
      write_entry(stream, line, *len, 0, &ts);
      *len = 0;
    } else if (nl && part == take) {
      write_entry(stream, line, *len, 1, &ts);
      *len = 0;
      buf++;
      n--;
    }
  }
  flush_out();
}

/* A stream ended: what is left of its last line is an entry of its own. */
void log_stream_end(int stream) {
  if (lg.fd < 0 || (stream != 1 && stream != 2) || lg.line_len[stream] == 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  write_entry(stream, lg_line[stream], lg.line_len[stream], 0, &ts);
  lg.line_len[stream] = 0;
  flush_out();
}
