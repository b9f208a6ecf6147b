/* report_demo.c - dev-time: writes a demo report (100 train lines, 10 eval
 * lines, one malformed line, two heatmaps) to look at in a browser. Not built
 * by CMake (not a test). From the worktree, after `make build`:
 *
 *   gcc -std=c11 -D_DEFAULT_SOURCE -I. tests/report_demo.c build/libnextok.a -lm -o /tmp/demo
 *   (cd /tmp && ./demo)   # writes /tmp/m.jsonl and /tmp/report.html
 *   chromium --headless --no-sandbox --hide-scrollbars --window-size=1100,2300 \
 *       --screenshot=/tmp/report.png file:///tmp/report.html
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "eval/report.h"
int main(void) {
    FILE *f = fopen("m.jsonl", "w");
    for (int s = 50; s <= 5000; s += 50) {
        double lr = s < 500 ? 1e-3 * s / 500 : 1e-3 * 0.5 * (1 + cos(M_PI * (s - 500) / 4500.0));
        double loss = 0.05 + 3.5 * exp(-s / 600.0) * (1 + 0.1 * sin(s));
        fprintf(f, "{\"type\":\"train\",\"step\":%d,\"loss\":%g,\"lr\":%g,\"tok_s\":12000}\n", s, loss, lr);
        if (s % 500 == 0)
            fprintf(f, "{\"type\":\"eval\",\"step\":%d,\"loss\":%g,\"ppl\":%g,\"token_acc\":%g,\"exact_match\":%g,\"bleu\":%g}\n", s,
                    loss * 1.3, exp(loss * 1.3), 100 - 40 * exp(-s / 900.0), 100 - 95 * exp(-s / 1500.0), 100 - 80 * exp(-s / 1200.0));
        if (s == 1200) fprintf(f, "{\"type\":\"train\",\"step\":1210,\"loss\":}\n");
    }
    fclose(f);
    const char *src[] = {"\xE2\x96\x81" "three", "\xE2\x96\x81" "hundred", "\xE2\x96\x81" "and", "\xE2\x96\x81" "forty", "-", "two", "<b>&", "<eos>"};
    const char *out[] = {"\xE2\x96\x81" "trois", "\xE2\x96\x81" "cent", "\xE2\x96\x81" "quarante", "-", "deux", "<eos>"};
    /* a soft diagonal alignment: output token t looks at source token al[t] */
    int al[] = {0, 1, 3, 4, 5, 7};
    float w[6 * 8];
    for (int t = 0; t < 6; t++) {
        double z = 0;
        for (int j = 0; j < 8; j++) z += w[t * 8 + j] = (float)exp(-2.0 * abs(j - al[t]));
        for (int j = 0; j < 8; j++) w[t * 8 + j] /= (float)z;
    }
    const char *s2[] = {"4", "2", "<eos>"};
    const char *o2[] = {"q", "u", "a", "r", "a", "n", "t", "e", "-", "d", "e", "u", "x", "<eos>"};
    float w2[14 * 3];
    for (int t = 0; t < 14; t++)
        for (int j = 0; j < 3; j++) w2[t * 3 + j] = (t < 8) == (j == 0) ? 0.8f : 0.1f;
    nt_report_heatmap hm[] = {{"three hundred and forty-two \xE2\x86\x92 trois cent quarante-deux", src, 8, out, 6, w}, {"digits-fr: 42", s2, 3, o2, 14, w2}};
    nt_report_kv kv[] = {{"task", "en-fr"}, {"model", "encdec, d_model 128, 4 heads, 2+2 layers"}, {"parameters", "1,234,567"},
                         {"steps", "5000"}, {"time", "412 s"}, {"BLEU", "97.31 (nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:nextok-0.1)"}, {"exact match", "91.20 %"}};
    nt_report_info info = {"nextok: en-fr numbers", kv, 7, hm, 2};
    nt_status s = nt_report_write("report.html", "m.jsonl", &info);
    printf("%d\n", s);
    return s;
}
