/* cmd_translate.c - `nextok-translate translate`: source lines in, one
 * translation per line out (or the n best), in input order. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/alloc.h"

void cmd_translate_usage(FILE *out) {
    fprintf(out,
            "usage: nextok-translate translate --checkpoint C [options] < sources.txt > translations.txt\n"
            "\n"
            "Reads one source text per line (stdin or --input F) and writes one translation per line,\n"
            "in input order. A line that is invalid UTF-8, cannot be tokenized or is too long for the\n"
            "model gets a message on stderr and an empty output line; the others are translated.\n"
            "\n"
            "  --checkpoint C            model checkpoint (full or weights-only)\n"
            "  --input F                 read sources from F instead of stdin\n"
            "  --batch N                 sources decoded together (default 32; output never depends on it)\n"
            "  --num-beams K             beam search with K beams (default 1: greedy)\n"
            "  --length-penalty A        beam ranking: score / length^A (default 1)\n"
            "  --do-sample               draw tokens from the distribution instead\n"
            "  --temperature T           sampling temperature (default 1)\n"
            "  --top-k K                 sample among the K most likely tokens (default 0: all)\n"
            "  --top-p P                 nucleus sampling (default 1: off)\n"
            "  --seed S                  sampling seed (default 0)\n"
            "  --repetition-penalty R    (default 1: off)\n"
            "  --no-repeat-ngram-size N  (default 0: off)\n"
            "  --max-new-tokens N        output length limit in tokens (default: the model's max_len)\n"
            "  --nbest K                 K lines per source, 'LINE ||| translation ||| score' (LINE from 0,\n"
            "                            score = log-probability / length^length-penalty), best first;\n"
            "                            uses K beams at least unless sampling (then K draws)\n"
            "  --threads N               OpenMP/OpenBLAS threads\n");
}

static int usage_error(void) {
    fputc('\n', stderr);
    cmd_translate_usage(stderr);
    return 2;
}

/* Parses the generation flags shared with eval. 1 handled, 0 not ours, -1 bad. */
int cli_generate_option(nt_generate_config *g, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (strcmp(a, "--do-sample") == 0) {
        g->do_sample = 1;
        return 1;
    }
    static const char *flags[] = {"--num-beams", "--length-penalty", "--temperature", "--top-k", "--top-p", "--seed",
                                  "--repetition-penalty", "--no-repeat-ngram-size", "--max-new-tokens"};
    int k = -1;
    for (int j = 0; j < (int)(sizeof flags / sizeof *flags); j++)
        if (strcmp(a, flags[j]) == 0) k = j;
    if (k < 0) return 0;
    const char *v = cli_value("translate", argc, argv, i);
    if (!v) return -1;
    long n;
    double d;
    unsigned long long u;
    switch (k) {
    case 0: if (!nt_cli_parse_int(a, v, 1, 1024, &n)) return -1; g->num_beams = (int)n; break;
    case 1: if (!cli_parse_double(a, v, -100, 100, &d)) return -1; g->length_penalty = (float)d; break;
    case 2: if (!cli_parse_double(a, v, 1e-6, 1e6, &d)) return -1; g->temperature = (float)d; break;
    case 3: if (!nt_cli_parse_int(a, v, 0, 1 << 30, &n)) return -1; g->top_k = (int)n; break;
    case 4: if (!cli_parse_double(a, v, 1e-9, 1, &d)) return -1; g->top_p = (float)d; break;
    case 5: if (!nt_cli_parse_u64(a, v, &u)) return -1; g->seed = u; break;
    case 6: if (!cli_parse_double(a, v, 1e-6, 1e6, &d)) return -1; g->repetition_penalty = (float)d; break;
    case 7: if (!nt_cli_parse_int(a, v, 0, 1 << 20, &n)) return -1; g->no_repeat_ngram_size = (int)n; break;
    case 8: if (!nt_cli_parse_int(a, v, 1, 1 << 20, &n)) return -1; g->max_new_tokens = (int)n; break;
    }
    return 1;
}

typedef struct line_buf {
    char **lines;
    int n, cap;
} line_buf;

static void lines_clear(line_buf *b) {
    for (int i = 0; i < b->n; i++) free(b->lines[i]);
    b->n = 0;
}

static void write_outputs(FILE *out, const cli_hyp *h, int n, int first_index, int nbest) {
    for (int i = 0; i < n; i++) {
        if (!nbest) {
            fprintf(out, "%s\n", h[i].n > 0 ? h[i].text[0] : "");
            continue;
        }
        for (int k = 0; k < nbest; k++) {
            if (k < h[i].n) fprintf(out, "%d ||| %s ||| %.6f\n", first_index + i, h[i].text[k], (double)h[i].score[k]);
            else fprintf(out, "%d |||  ||| -inf\n", first_index + i);
        }
    }
}

int cmd_translate(int argc, char **argv) {
    const char *ckpt = NULL, *input = NULL;
    long batch = 32, nbest = 0, threads = 0;
    nt_generate_config g = nt_generate_config_default();
    int max_new_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cmd_translate_usage(stdout);
            return 0;
        }
        int r = cli_generate_option(&g, argc, argv, &i);
        if (r < 0) return usage_error();
        if (r > 0) {
            max_new_set |= strcmp(a, "--max-new-tokens") == 0;
            continue;
        }
        const char **str = strcmp(a, "--checkpoint") == 0 ? &ckpt : strcmp(a, "--input") == 0 ? &input : NULL;
        long *num = strcmp(a, "--batch") == 0     ? &batch
                    : strcmp(a, "--nbest") == 0   ? &nbest
                    : strcmp(a, "--threads") == 0 ? &threads
                                                  : NULL;
        if (!str && !num) {
            fprintf(stderr, "nextok-translate translate: unknown option \"%s\"\n", a);
            return usage_error();
        }
        const char *v = cli_value("translate", argc, argv, &i);
        if (!v) return usage_error();
        if (str) *str = v;
        else if (!nt_cli_parse_int(a, v, 1, num == &batch ? 4096 : 1024, num)) return usage_error();
    }
    if (!ckpt) {
        fprintf(stderr, "nextok-translate translate: --checkpoint is required\n");
        return usage_error();
    }
    if (nbest > 0) {
        g.num_return_sequences = (int)nbest;
        if (!g.do_sample && g.num_beams < nbest) g.num_beams = (int)nbest;
    }
    nt_generate_config probe = g;
    if (!max_new_set) probe.max_new_tokens = 1;
    if (nt_generate_config_check(&probe) != NT_OK) {
        fprintf(stderr, "nextok-translate translate: %s\n", nt_errmsg());
        return usage_error();
    }
    cli_threads((int)threads);
    FILE *in = stdin;
    if (input && !(in = fopen(input, "rb"))) {
        fprintf(stderr, "nextok-translate translate: cannot open %s (%s)\n", input, strerror(errno));
        return 1;
    }
    cli_translator tr;
    if (cli_translator_open(&tr, ckpt) != NT_OK) {
        fprintf(stderr, "nextok-translate translate: %s\n", nt_errmsg());
        if (in != stdin) fclose(in);
        return 1;
    }
    int keep_max = tr.gen.max_new_tokens;
    tr.gen = g;
    if (!max_new_set) tr.gen.max_new_tokens = keep_max;
    tr.batch = (int)batch;
    /* interactive: translate each line as it comes */
    const int chunk = isatty(fileno(in)) ? 1 : (int)(batch > 256 ? batch : 256);
    line_buf buf = {0};
    buf.lines = calloc((size_t)chunk, sizeof *buf.lines);
    cli_hyp *hyps = calloc((size_t)chunk, sizeof *hyps);
    int rc = buf.lines && hyps ? 0 : 1, line_no = 0, eof = 0;
    char *line = NULL;
    size_t line_cap = 0;
    while (rc == 0 && !eof) {
        buf.n = 0;
        int first = line_no;
        while (buf.n < chunk) {
            ssize_t len = getline(&line, &line_cap, in);
            if (len < 0) {
                eof = 1;
                break;
            }
            line_no++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
            if ((size_t)len != strlen(line)) {
                fprintf(stderr, "nextok-translate: line %d: contains a NUL byte; output left empty\n", line_no);
                line[0] = 0;
            }
            buf.lines[buf.n] = strdup(line);
            if (!buf.lines[buf.n]) {
                rc = 1;
                break;
            }
            buf.n++;
        }
        if (rc || buf.n == 0) break;
        if (cli_translate(&tr, (const char *const *)buf.lines, buf.n, hyps, first + 1, 1) != NT_OK) {
            fprintf(stderr, "nextok-translate translate: %s\n", nt_errmsg());
            rc = 1;
        } else {
            write_outputs(stdout, hyps, buf.n, first, (int)nbest);
            fflush(stdout);
            cli_hyps_free(hyps, buf.n);
        }
        lines_clear(&buf);
    }
    if (ferror(in)) {
        fprintf(stderr, "nextok-translate translate: read error on %s\n", input ? input : "stdin");
        rc = 1;
    }
    lines_clear(&buf);
    free(buf.lines);
    free(hyps);
    free(line);
    if (in != stdin) fclose(in);
    cli_translator_close(&tr);
    return rc;
}
