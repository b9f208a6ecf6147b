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
            if (k < h[i].n)
                fprintf(out, "%d ||| %s ||| %.6f%s\n", first_index + i, h[i].text[k], (double)h[i].score[k],
                        h[i].finished[k] ? "" : " ||| unfinished");
            else fprintf(out, "%d |||  ||| -inf\n", first_index + i);
        }
    }
}

int cmd_translate(int argc, char **argv) {
    const char *ckpt = NULL, *input = NULL;
    long batch = 32, nbest = 0, threads = 0;
    int no_normalize = 0, precision = 0;
    nt_generate_config g = nt_generate_config_default();
    nt_opt gen_opts[CLI_GENERATE_NOPTS];
    cli_generate_opts(gen_opts, &g);
    nt_opt opts[] = {
        {"--checkpoint", NT_OPT_STRING, &ckpt, .arg = "C", .required = 1,
         .help = "model checkpoint (full or weights-only)"},
        {"--input", NT_OPT_STRING, &input, .arg = "F", .def = "stdin", .help = "read sources from F"},
        {"--batch", NT_OPT_INT, &batch, 1, 4096, .help = "sources decoded together (output never depends on it)"},
        {"--no-normalize", NT_OPT_FLAG, &no_normalize,
         .help = CLI_NORMALIZE_HELP},
        {"--nbest", NT_OPT_INT, &nbest, 1, 1024, .arg = "K", .def = "",
         .help = "K lines per source, 'LINE ||| translation ||| score' (LINE from 0, score = log-probability / "
                 "length^length-penalty), best first; uses K beams at least unless sampling (then K draws). Hypotheses "
                 "that ended rank above those the length limit cut, which come only when fewer than K ended and are "
                 "marked ' ||| unfinished'"},
        {"--precision", NT_OPT_ENUM, &precision, .choices = "fp32|bf16",
         .help = "bf16: decode on bf16 copies of the weights (made at load; activations and sums stay fp32; "
                 "docs/precision.md)"},
        {"--threads", NT_OPT_INT, &threads, 1, 1024, .def = "OMP_NUM_THREADS or all cores",
         .help = "OpenMP/OpenBLAS threads"},
        {.kind = NT_OPT_GROUP, .help = "decoding (default greedy):", .dest = gen_opts},
        {0}};
    nt_opts cmd = {"nextok-translate translate",
                   "usage: nextok-translate translate --checkpoint C [options] < sources.txt > translations.txt",
                   "Reads one source text per line (stdin or --input F) and writes one translation per line, in input "
                   "order. A line that is invalid UTF-8, cannot be tokenized or is too long for the model gets a "
                   "message on stderr and an empty output line, the others are translated, and the exit status is 1 at the end. "
                   "A number model (its vocabulary holds only number words or digits) also refuses a line with "
                   "tokens outside its vocabulary, naming them, and reads each line normalised (see --no-normalize).",
                   .opts = opts, .epilog = cli_omp_policy_help()};
    int rc = nt_opts_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (nbest > 0) {
        g.num_return_sequences = (int)nbest;
        if (!g.do_sample && g.num_beams < nbest) g.num_beams = (int)nbest;
    }
    if ((rc = cli_generate_check(&cmd, &g)) >= 0) return rc;
    int max_new_set = nt_opts_given(&cmd, "--max-new-tokens");
    cli_threads(threads);
    FILE *in = stdin;
    if (input && !(in = fopen(input, "rb"))) {
        fprintf(stderr, "nextok-translate translate: cannot open %s (%s)\n", input, strerror(errno));
        return 1;
    }
    cli_translator tr;
    if (cli_translator_open(&tr, ckpt) != NT_OK) {
        fprintf(stderr, "nextok-translate translate: %s\n", cli_errmsg());
        if (in != stdin) fclose(in);
        return 1;
    }
    int keep_max = tr.gen.max_new_tokens;
    tr.gen = g;
    if (!max_new_set) tr.gen.max_new_tokens = keep_max;
    tr.batch = (int)batch;
    tr.normalize = tr.numbers && !no_normalize;
    nt_ctx_set_precision(tr.ctx, (nt_precision)precision);
    /* interactive: translate each line as it comes */
    const int chunk = isatty(fileno(in)) ? 1 : (int)(batch > 256 ? batch : 256);
    line_buf buf = {0};
    buf.lines = calloc((size_t)chunk, sizeof *buf.lines);
    cli_hyp *hyps = calloc((size_t)chunk, sizeof *hyps);
    rc = buf.lines && hyps ? 0 : 1;
    int line_no = 0, eof = 0, failed = 0;
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
            fprintf(stderr, "nextok-translate translate: %s\n", cli_errmsg());
            rc = 1;
        } else {
            for (int i = 0; i < buf.n; i++) failed += hyps[i].error[0] != 0;
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
    if (rc == 0 && failed) {
        fprintf(stderr, "nextok-translate translate: %d line%s could not be translated (empty output line%s)\n", failed,
                failed == 1 ? "" : "s", failed == 1 ? "" : "s");
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
