/* test_report.c - the HTML training report: structure, escaping, no network
 * references, malformed metrics lines reported, atomic write and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "support/check.h"
#include "support/proc.h"
#include "eval/report.h"

static void write_file(const char *path, const char *text) {
    CHECK(nt_proc_write_file(path, text, strlen(text)) == 0, "cannot create %s", path);
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* Number of x,y pairs in the points of the polyline of class `cls`, -1 if none. */
static int polyline_points(const char *html, const char *cls) {
    char key[96];
    snprintf(key, sizeof key, "class=\"series %s\"", cls);
    const char *p = strstr(html, key);
    if (!p) return -1;
    p = strstr(p, "points=\"");
    if (!p) return -1;
    p += 8;
    int n = 0;
    for (; *p && *p != '"'; p++) n += *p == ',';
    return n;
}

static const char *METRICS =
    "{\"type\":\"train\",\"step\":100,\"loss\":4.1,\"lr\":0.0001,\"tok_s\":12000,\"grad_norm\":1.5,\"elapsed_s\":10.2}\n"
    "{\"type\":\"train\",\"step\":200,\"loss\":2.3,\"lr\":0.0005,\"tok_s\":12345,\"grad_norm\":0.9,\"elapsed_s\":20.1}\n"
    "{\"type\":\"config\",\"d_model\":128,\"arch\":\"encdec\"}\n"
    "{\"type\":\"train\",\"step\":300,\"loss\":}\n"                       /* line 4: malformed */
    "{\"type\":\"train\",\"step\":300,\"loss\":1.2,\"lr\":0.001,\"tok_s\":12100}\n"
    "\n"
    "{\"type\":\"train\",\"step\":400,\"loss\":0.61,\"lr\":0.00095}\n"
    "{\"type\":\"eval\",\"step\":400,\"loss\":0.7,\"ppl\":2.01,\"token_acc\":81.5,\"exact_match\":40.0}\n"
    "{\"type\":\"train\",\"step\":500,\"loss\":0.33,\"lr\":0.0009}\n"
    "{\"type\":\"train\",\"step\":600,\"loss\":0.2,\"lr\":0.0008}\n"
    "  {\"type\" : \"eval\", \"step\" : 600, \"loss\" : 0.4, \"ppl\":1.5,\"token_acc\":97.1,\"exact_match\":88.0} \n"
    "{\"type\":\"train\",\"step\":700,\"loss\":0.12,\"lr\":0.0007}";      /* no final newline */

static void test_report(void) {
    write_file("test_report_metrics.jsonl", METRICS);
    const char *src1[] = {"\xE2\x96\x81one", "\xE2\x96\x81hundred", "<b>&", "<eos>"};
    const char *out1[] = {"\xE2\x96\x81" "cent", "<eos>"};
    float w1[2 * 4] = {0.05f, 0.8f, 0.1f, 0.05f, 0.0f, 0.1f, 0.2f, 0.7f};
    const char *src2[] = {"t", "w", "o", "<eos>"};
    const char *out2[] = {"d", "e", "u", "x", "<eos>"};
    float w2[5 * 4];
    for (int t = 0; t < 5; t++)
        for (int j = 0; j < 4; j++) w2[t * 4 + j] = (t == j || (t == 4 && j == 3)) ? 0.9f : 0.1f / 3;
    nt_report_heatmap hm[2] = {
        {"one hundred -> cent", src1, 4, out1, 2, w1},
        {NULL, src2, 4, out2, 5, w2},
    };
    nt_report_kv kv[] = {{"model", "encdec d=128 L=2+2"}, {"params", "1.2M"}, {"note", "a<b & \"c\""}};
    nt_report_info info = {"en-fr numbers", kv, 3, hm, 2};
    nt_status s = nt_report_write("test_report.html", "test_report_metrics.jsonl", &info);
    CHECK(s == NT_OK, "write: %s", nt_errmsg());
    char *html = nt_proc_read_file("test_report.html", NULL);
    CHECK(html != NULL, "report not written");
    if (!html) return;
    CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0, "doctype");
    CHECK(strstr(html, "</html>") != NULL, "closed");
    CHECK(count(html, "<svg") == 4 + 2, "svg count %d", count(html, "<svg"));
    CHECK(count(html, "</svg>") == 6, "svg closed");
    /* the page says what it shows: training loss with label smoothing on its
     * own scale, validation loss on another, percentages with their % */
    CHECK(strstr(html, "Training loss (log scale; includes label smoothing)") &&
              strstr(html, "Validation loss (log scale)"),
          "two loss charts");
    const char *vchart = strstr(html, "Validation loss (log scale)"), *tchart = strstr(html, "includes label smoothing");
    const char *vl = strstr(html, "val-loss"), *tl = strstr(html, "train-loss");
    CHECK(vchart && tchart && vl && tl && tl > tchart && tl < vchart && vl > vchart, "each loss in its own chart");
    const char *acc = strstr(html, "Validation accuracy");
    CHECK(acc && strstr(acc, "%</text>") && strstr(acc, "%</title>"), "accuracy ticks and points carry %%");
    /* it fits a 1,280-px window: the page is at most 1000 px wide, long
     * values wrap, wide figures scale */
    CHECK(strstr(html, "max-width:1000px") && strstr(html, "table-layout:fixed") && strstr(html, "overflow-wrap:anywhere") &&
              strstr(html, "svg{max-width:100%"),
          "layout CSS");
    CHECK(polyline_points(html, "train-loss") == 7, "train points %d", polyline_points(html, "train-loss"));
    CHECK(polyline_points(html, "val-loss") == 2, "val points %d", polyline_points(html, "val-loss"));
    CHECK(polyline_points(html, "lr") == 7, "lr points %d", polyline_points(html, "lr"));
    CHECK(polyline_points(html, "token-acc") == 2 && polyline_points(html, "exact-match") == 2, "acc points");
    CHECK(polyline_points(html, "bleu") == -1, "no BLEU series without data");
    /* escaping */
    CHECK(strstr(html, "&lt;b&gt;&amp;") != NULL, "token escaped");
    CHECK(strstr(html, "<b>&") == NULL, "raw token");
    CHECK(strstr(html, "a&lt;b &amp; &quot;c&quot;") != NULL, "summary escaped");
    CHECK(strstr(html, "&lt;eos&gt;") != NULL && strstr(html, "<eos>") == NULL, "eos escaped");
    /* no network */
    CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL, "network reference");
    CHECK(strstr(html, "<script") == NULL && strstr(html, "<link") == NULL, "external resources");
    /* the malformed line is reported by number, the rest counted */
    CHECK(strstr(html, "<li>line 4: bad number (column") != NULL, "bad line reported");
    CHECK(strstr(html, "12 lines, 7 train and 2 eval records, 1 of other types, 1 malformed line skipped") != NULL,
          "notes");
    /* heatmaps: one titled cell per (output, source) pair */
    CHECK(count(html, " \xE2\x86\x92 ") == 2 * 4 + 5 * 4, "cells %d", count(html, " \xE2\x86\x92 "));
    CHECK(strstr(html, "sample 2") != NULL, "default caption");
    CHECK(strstr(html, "one hundred -&gt; cent") != NULL, "caption");
    /* the largest weight is the darkest: 0.9 -> rgb(33,69,122): 255 - 0.9 * (255 - (8,48,107)), rounded */
    CHECK(strstr(html, "fill=\"rgb(33,69,122)\"") != NULL, "colour of 0.9");
    /* no temporary file left behind */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "test_report.html.tmp-%ld", (long)getpid());
    CHECK(access(tmp, F_OK) != 0, "tmp left");
    free(html);
}

static void test_parser(void) {
    write_file("test_report_bad.jsonl",
               "{\"type\":\"train\",\"step\":1,\"loss\":2}\n"
               "{\"type\":\"train\",\"step\":2,\"loss\":1.5e0\n"                /* 2: truncated */
               "{\"type\":\"train\",\"step\":3,\"cfg\":{\"a\":1}}\n"           /* 3: nested */
               "{\"type\":\"train\",\"step\":4} trailing\n"                    /* 4: garbage */
               "{\"type\":\"train\",\"step\":5,\"s\":\"\\q\"}\n"               /* 5: bad escape */
               "{\"step\":6,\"loss\":1}\n"                                     /* 6: no type */
               "{\"type\":\"train\",\"loss\":1}\n"                             /* 7: no step */
               "{\"type\":\"train\",\"step\":\"8\",\"loss\":1}\n"              /* 8: step string */
               "not json at all\n"                                             /* 9 */
               "{\"type\":\"train\",\"step\":10,\"loss\":NaN,\"ok\":true}\n"   /* NaN: read, not drawn */
               "{\"type\":\"train\",\"step\":11,\"loss\":-Infinity,\"x\":null}\n"
               "{\"type\":\"tr\\u0061in\",\"step\":12,\"loss\":0.5,\"n\":\"\\u00e9\\ud83d\\ude00\"}\n"
               "{\"type\":\"train\",\"step\":13,\"loss\":01}\n"                /* 13: leading zero */
               "{\"type\":\"eval\",\"step\":14,\"token_acc\":50,\"bleu\":12.5,\"chrf\":40}\n"
               "{}\n");                                                        /* 15: no type */
    nt_status s = nt_report_write("test_report_bad.html", "test_report_bad.jsonl", NULL);
    CHECK(s == NT_OK, "write: %s", nt_errmsg());
    char *html = nt_proc_read_file("test_report_bad.html", NULL);
    if (!html) { CHECK(0, "not written"); return; }
    const int bad[] = {2, 3, 4, 5, 6, 7, 8, 9, 13, 15};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "<li>line %d: ", bad[i]);
        CHECK(strstr(html, key) != NULL, "line %d not reported", bad[i]);
    }
    CHECK(count(html, "<li>line ") == 10, "bad lines %d", count(html, "<li>line "));
    CHECK(strstr(html, "nested objects and arrays") != NULL, "nested msg");
    CHECK(strstr(html, "4 train and 1 eval records") != NULL, "records");
    /* steps 1 and 12 have a positive loss; NaN and -inf are left out */
    CHECK(polyline_points(html, "train-loss") == 2, "points %d", polyline_points(html, "train-loss"));
    CHECK(polyline_points(html, "bleu") == 1 && polyline_points(html, "chrf") == 1, "bleu/chrf series");
    CHECK(count(html, "<svg") == 4, "four charts");
    CHECK(strstr(html, ">no data<") != NULL, "empty lr chart says no data");
    free(html);
    /* no metrics file at all */
    CHECK(nt_report_write("test_report_none.html", NULL, NULL) == NT_OK, "no metrics: %s", nt_errmsg());
    html = nt_proc_read_file("test_report_none.html", NULL);
    CHECK(html && count(html, ">no data<") == 4, "four empty charts");
    free(html);
}

static void test_errors(void) {
    write_file("test_report_keep.html", "old");
    const char *src[] = {"a", "b"}, *out[] = {"x"};
    float w[2] = {0.5f, NAN};
    nt_report_heatmap hm = {NULL, src, 2, out, 1, w};
    nt_report_info info = {NULL, NULL, 0, &hm, 1};
    CHECK(nt_report_write("test_report_keep.html", NULL, &info) == NT_ERR_NUMERIC, "NaN weight");
    CHECK(strstr(nt_errmsg(), "heatmap 0: weight (0, 1)") != NULL, "msg: %s", nt_errmsg());
    char *kept = nt_proc_read_file("test_report_keep.html", NULL);
    CHECK(kept && strcmp(kept, "old") == 0, "target untouched on error");
    free(kept);
    w[1] = 0.5f;
    hm.S = 0;
    CHECK(nt_report_write("test_report_keep.html", NULL, &info) == NT_ERR_ARG, "S = 0");
    CHECK(strstr(nt_errmsg(), "S = 0") != NULL, "msg: %s", nt_errmsg());
    hm.S = 2;
    src[1] = NULL;
    CHECK(nt_report_write("test_report_keep.html", NULL, &info) == NT_ERR_ARG, "NULL token");
    CHECK(strstr(nt_errmsg(), "source token 1") != NULL, "msg: %s", nt_errmsg());
    nt_report_kv kv = {"k", NULL};
    nt_report_info info2 = {NULL, &kv, 1, NULL, 0};
    CHECK(nt_report_write("test_report_keep.html", NULL, &info2) == NT_ERR_ARG, "NULL value");
    CHECK(nt_report_write(NULL, NULL, NULL) == NT_ERR_ARG, "NULL path");
    CHECK(nt_report_write("test_report_keep.html", "no_such_metrics.jsonl", NULL) == NT_ERR_IO, "missing metrics");
    CHECK(strstr(nt_errmsg(), "no_such_metrics.jsonl") != NULL, "msg: %s", nt_errmsg());
    CHECK(nt_report_write("no_such_dir/report.html", NULL, NULL) == NT_ERR_IO, "bad dir");
    kept = nt_proc_read_file("test_report_keep.html", NULL);
    CHECK(kept && strcmp(kept, "old") == 0, "target untouched on error");
    free(kept);
}

/* Every allocation failing in turn: NT_ERR_NOMEM or success, never a crash
 * or a leak (the sanitizer build checks leaks), and the old file is kept. */
static void test_nomem(void) {
    const char *src[] = {"a", "b"}, *out[] = {"x", "y"};
    float w[4] = {1, 0, 0, 1};
    nt_report_heatmap hm = {NULL, src, 2, out, 2, w};
    nt_report_kv kv = {"k", "v"};
    nt_report_info info = {NULL, &kv, 1, &hm, 1};
    int nomem = 0, ok = 0;
    for (uint64_t k = 1; k <= 40; k++) {
        write_file("test_report_oom.html", "old");
        nt_alloc_fail_after(k);
        nt_status s = nt_report_write("test_report_oom.html", "test_report_metrics.jsonl", &info);
        nt_alloc_fail_after(0);
        CHECK(s == NT_OK || s == NT_ERR_NOMEM, "k %d: %s", (int)k, nt_errmsg());
        nomem += s == NT_ERR_NOMEM;
        ok += s == NT_OK;
        char *text = nt_proc_read_file("test_report_oom.html", NULL);
        CHECK(text && (s == NT_OK ? strncmp(text, "<!DOCTYPE", 9) == 0 : strcmp(text, "old") == 0), "k %d: file", (int)k);
        free(text);
    }
    CHECK(nomem > 0 && ok > 0, "nomem %d ok %d", nomem, ok);
}

int main(void) {
    test_report();
    test_parser();
    test_errors();
    test_nomem();
    return nt_check_report("test_report");
}
