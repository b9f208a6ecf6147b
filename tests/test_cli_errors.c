/* test_cli_errors.c - nextok-translate's answers to wrong use: unknown flags,
 * missing files and values, unreadable, foreign and weights-only checkpoints,
 * a vocabulary that does not fit. Each must print a message that names the
 * problem and exit non-zero (2 for usage, 1 for a failure), never crash. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "data/tokenizer.h"
#include "support/check.h"
#include "support/cli_run.h"
#include "support/proc.h"
#include "support/scratch.h"
#include "train/checkpoint.h"
#include "train/h5io.h"


/* Expects exit status `want` and every needle in stderr. */
#define EXPECT(want, args, ...)                                                                          \
    do {                                                                                                 \
        int rc_ = nt_cli_run(args);                                                                             \
        const char *needles_[] = {__VA_ARGS__, NULL};                                                    \
        int found_ = 1;                                                                                  \
        for (int k_ = 0; needles_[k_]; k_++) found_ &= strstr(nt_cli_err, needles_[k_]) != NULL;           \
        CHECK(rc_ == (want) && found_, "%s %s: exit %d (want %d), stderr: %s", (args)[0], (args)[1] ? (args)[1] : "", rc_, \
              (want), nt_cli_err);                                                                         \
    } while (0)

static void write_file(const char *path, const char *text) {
    CHECK(nt_proc_write_file(path, text, strlen(text)) == 0, "cannot write %s", path);
}

/* 1 if text names a library function ("nt_tsv_read: ..."): a user of the CLI
 * knows their flags and files, not our functions. */
static int internal_name(const char *text) {
    for (const char *p = strstr(text, "nt_"); p; p = strstr(p + 1, "nt_")) {
        if (p > text && p[-1] != ' ' && p[-1] != '\n') continue;
        const char *q = p + 3;
        while ((*q >= 'a' && *q <= 'z') || *q == '_') q++;
        if (*q == ':') return 1;
    }
    return 0;
}

/* A small real checkpoint: a weights-only export (ok = 1), or full. */
static int make_checkpoint(const char *path, int full) {
    const char *toks[] = {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>", "▁one", "▁un", "▁two", "▁deux"};
    nt_vocab *v = NULL;
    nt_model *m = NULL;
    nt_model_config mc = nt_model_config_default();
    mc.vocab_size = 9, mc.d_model = 16, mc.heads = 2, mc.enc_layers = 1, mc.dec_layers = 1, mc.max_len = 16;
    int ok = nt_vocab_from_tokens(&v, NT_TOKENIZER_WORD, toks, 9) == NT_OK && nt_model_new(&m, &mc) == NT_OK;
    if (ok) {
        nt_rng r;
        nt_rng_seed(&r, 1);
        nt_model_init(m, &r);
        if (full) {
            nt_train_state ts;
            nt_train_state_init(&ts);
            ok = nt_ckpt_save(path, &m->net, v, NULL, &ts) == NT_OK;
        } else {
            ok = nt_ckpt_export(path, &m->net, v) == NT_OK;
        }
    }
    nt_model_free(m);
    nt_vocab_free(v);
    return ok;
}

/* A copy of checkpoint `src` at `dst` with one bit flipped inside the stored
 * data of `dataset` (its first chunk, located through HDF5). */
static int corrupt_copy(const char *src, const char *dst, const char *dataset) {
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0, origin[4] = {0};
    unsigned mask = 0;
    hsize_t base = 0; /* chunk addresses count from the end of the user block */
    hid_t f = H5Fopen(src, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t fcpl = f >= 0 ? H5Fget_create_plist(f) : -1;
    if (fcpl >= 0) H5Pget_userblock(fcpl, &base), H5Pclose(fcpl);
    hid_t ds = f >= 0 ? H5Dopen2(f, dataset, H5P_DEFAULT) : -1;
    if (ds >= 0 && H5Dget_chunk_info_by_coord(ds, origin, &mask, &addr, &size) < 0) addr = HADDR_UNDEF;
    if (addr != HADDR_UNDEF) addr += base;
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    size_t n;
    char *data = nt_proc_read_file(src, &n);
    int ok = data && addr != HADDR_UNDEF && size > 8 && addr + size <= n;
    if (ok) data[addr + 5] ^= 0x04;
    ok = ok && nt_proc_write_file(dst, data, n) == 0;
    free(data);
    return ok;
}

int main(void) {
    nt_cli_use("nextok-translate");
    CHECK(nt_scratch_begin("nt_cli_err"), "mkdtemp");
    char train[1100], valid[1100], digits[1100], ckpt[1100], full[1100], garbage[1100], foreign[1100], empty[1100],
        missing[1100], run_dir[1100], corrupt[1100], p[1200];
    snprintf(train, sizeof train, "%s/train.tsv", nt_scratch);
    snprintf(valid, sizeof valid, "%s/valid.tsv", nt_scratch);
    snprintf(digits, sizeof digits, "%s/digits.tsv", nt_scratch);
    snprintf(ckpt, sizeof ckpt, "%s/weights.h5", nt_scratch);
    snprintf(full, sizeof full, "%s/full.h5", nt_scratch);
    snprintf(garbage, sizeof garbage, "%s/garbage.h5", nt_scratch);
    snprintf(foreign, sizeof foreign, "%s/foreign.h5", nt_scratch);
    snprintf(corrupt, sizeof corrupt, "%s/corrupt.h5", nt_scratch);
    snprintf(empty, sizeof empty, "%s/empty.tsv", nt_scratch);
    snprintf(missing, sizeof missing, "%s/no-such-file.tsv", nt_scratch);
    snprintf(run_dir, sizeof run_dir, "%s/run", nt_scratch);
    write_file(train, "one\tun\ntwo\tdeux\none two\tun deux\n");
    write_file(valid, "two one\tdeux un\n");
    write_file(digits, "12\tdouze\n");
    write_file(garbage, "this is not an HDF5 file\n");
    write_file(empty, "");
    CHECK(make_checkpoint(ckpt, 0), "weights-only checkpoint: %s", nt_errmsg());
    CHECK(make_checkpoint(full, 1), "full checkpoint: %s", nt_errmsg());
    /* an HDF5 file of some other program */
    hid_t f = H5Fcreate(foreign, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f >= 0) {
        hid_t sp = H5Screate(H5S_SCALAR), ty = H5Tcopy(H5T_C_S1);
        H5Tset_size(ty, 6);
        hid_t at = H5Acreate2(f, "format", ty, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(at, ty, "keras!");
        H5Aclose(at), H5Tclose(ty), H5Sclose(sp), H5Fclose(f);
    }

    /* the OpenMP wait policy: passive or a bounded spin (by the load at
     * start-up, examples/common/omp_policy.h), set by the program itself before the
     * runtime starts (it re-executes itself with it), unless the user set one;
     * --help says which is in force */
    {
        const char *saved = getenv("OMP_WAIT_POLICY");
        char keep[64] = "";
        if (saved) snprintf(keep, sizeof keep, "%s", saved);
        unsetenv("OMP_WAIT_POLICY");
        const char *h0[] = {"--help", NULL};
        CHECK(nt_cli_run(h0) == 0 && (strstr(nt_cli_out, "OMP_WAIT_POLICY=passive, set by nextok-translate: the machine was busy") ||
                                      strstr(nt_cli_out, "GOMP_SPINCOUNT=100000, set by nextok-translate: the machine was quiet")),
              "policy: %s", nt_cli_out);
        const char *h1[] = {"eval", "--help", NULL};
        CHECK(nt_cli_run(h1) == 0 && (strstr(nt_cli_out, "OMP_WAIT_POLICY=passive, set by nextok-translate: the machine was busy") ||
                                      strstr(nt_cli_out, "GOMP_SPINCOUNT=100000, set by nextok-translate: the machine was quiet")),
              "eval policy: %s", nt_cli_out);
        setenv("OMP_WAIT_POLICY", "active", 1);
        CHECK(nt_cli_run(h0) == 0 && strstr(nt_cli_out, "OMP_WAIT_POLICY=active, from your environment"), "user policy: %s",
              nt_cli_out);
        if (keep[0]) setenv("OMP_WAIT_POLICY", keep, 1);
        else unsetenv("OMP_WAIT_POLICY");
    }

    /* the dispatcher */
    const char *a0[] = {"frobnicate", NULL};
    EXPECT(2, a0, "unknown command \"frobnicate\"");
    const char *a1[] = {"--help", NULL};
    CHECK(nt_cli_run(a1) == 0 && strstr(nt_cli_out, "translate") && strstr(nt_cli_out, "finetune"), "--help: %s", nt_cli_out);

    /* unknown flags, every subcommand */
    const char *cmds[] = {"data", "train", "translate", "eval", "finetune", "inspect", "report"};
    for (int i = 0; i < 7; i++) {
        const char *a[] = {cmds[i], "--bogus-flag", NULL};
        EXPECT(2, a, "unknown option \"--bogus-flag\"", "--help'.");
        CHECK(strstr(nt_cli_err, "usage:") == NULL && strstr(nt_cli_err, cmds[i]), "%s: the whole help on a typo: %s",
              cmds[i], nt_cli_err);
        const char *h[] = {cmds[i], "--help", NULL};
        CHECK(nt_cli_run(h) == 0 && strstr(nt_cli_out, "usage:"), "%s --help", cmds[i]);
        /* the help comes from the command's table: no flag twice (two tables
         * included into one command would otherwise shadow each other) */
        for (const char *l = nt_cli_out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            if (strncmp(l, "  --", 4) != 0) continue;
            size_t n = strcspn(l + 2, " \n");
            char flag[64], pat[72];
            snprintf(flag, sizeof flag, "%.*s", (int)(n < 63 ? n : 63), l + 2);
            snprintf(pat, sizeof pat, "\n  %s ", flag);
            const char *first = strstr(nt_cli_out, pat), *again = first ? strstr(first + 1, pat) : NULL;
            CHECK(!again, "%s --help lists %s twice", cmds[i], flag);
        }
    }

    /* missing required flags and bad values */
    const char *a2[] = {"train", "--train", train, "--valid", valid, NULL};
    EXPECT(2, a2, "--out is required");
    const char *a3[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--steps", "many", NULL};
    EXPECT(2, a3, "--steps \"many\": expected an integer");
    const char *a4[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--lr", NULL};
    EXPECT(2, a4, "--lr needs a value");
    const char *a5[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--preset", "huge", NULL};
    EXPECT(2, a5, "--preset \"huge\": expected one of tiny, small, base");
    const char *a6[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--schedule", "sawtooth", NULL};
    EXPECT(2, a6, "--schedule", "sawtooth");
    const char *a7[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--tokenizer", "bpe", NULL};
    EXPECT(2, a7, "bpe");
    const char *a8[] = {"translate", NULL};
    EXPECT(2, a8, "--checkpoint is required");
    const char *a9[] = {"eval", "--checkpoint", ckpt, NULL};
    EXPECT(2, a9, "give one of --test F and --task SRC-TGT");
    const char *a10[] = {"translate", "--checkpoint", ckpt, "--top-p", "1.5", NULL};
    EXPECT(2, a10, "--top-p", "1.5");
    const char *a11[] = {"inspect", NULL};
    EXPECT(2, a11, "missing the argument C");
    const char *a12[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--arch", "rnn", NULL};
    EXPECT(2, a12, "--arch \"rnn\": expected one of encdec, decoder");

    /* the command named is the user's, and so are the words of the message */
    const char *u1[] = {"eval", "--checkpoint", ckpt, "--test", valid, "--num-beams", NULL};
    EXPECT(2, u1, "nextok-translate eval: --num-beams needs a value");
    const char *u2[] = {"eval", "--checkpoint", ckpt, "--num-beams", "--test", valid, NULL};
    EXPECT(2, u2, "nextok-translate eval: --num-beams needs a value");
    const char *u3[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--preset", "tiny", "--steps", "2",
                        "--freeze", "xyz", "--overwrite", "--progress", "off", NULL};
    EXPECT(2, u3, "--freeze", "xyz", "--help'.");
    CHECK(!internal_name(nt_cli_err), "internal names reach the user: %s", nt_cli_err);
    const char *u4[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--preset", "tiny", "--steps", "2",
                        "--max-len", "2", "--overwrite", NULL};
    EXPECT(2, u4, "--max-len 2", "--help'.");
    const char *u6[] = {"eval", "--checkpoint", ckpt, "--test", missing, NULL};
    EXPECT(1, u6, "no-such-file.tsv");
    CHECK(!internal_name(nt_cli_err), "internal names reach the user: %s", nt_cli_err);

    /* missing and empty files */
    const char *b1[] = {"train", "--train", missing, "--valid", valid, "--out", run_dir, NULL};
    EXPECT(1, b1, "no-such-file.tsv");
    const char *b2[] = {"train", "--train", train, "--valid", missing, "--out", run_dir, NULL};
    EXPECT(1, b2, "no-such-file.tsv");
    const char *b3[] = {"train", "--train", empty, "--valid", valid, "--out", run_dir, NULL};
    EXPECT(1, b3, "empty.tsv");
    const char *b3e[] = {"eval", "--checkpoint", ckpt, "--test", empty, NULL};
    EXPECT(1, b3e, "empty.tsv holds no pairs");
    const char *b4[] = {"eval", "--checkpoint", ckpt, "--test", missing, NULL};
    EXPECT(1, b4, "no-such-file.tsv");
    const char *b5[] = {"translate", "--checkpoint", ckpt, "--input", missing, NULL};
    EXPECT(1, b5, "no-such-file.tsv");
    snprintf(p, sizeof p, "%s/nothing.h5", nt_scratch);
    const char *b6[] = {"translate", "--checkpoint", p, NULL};
    EXPECT(1, b6, "nothing.h5");
    const char *b7[] = {"report", p, NULL};
    EXPECT(1, b7, "not a run folder");

    /* unreadable and foreign checkpoints, for every command that reads one */
    const char *bad[] = {garbage, foreign};
    for (int k = 0; k < 2; k++) {
        const char *c1[] = {"translate", "--checkpoint", bad[k], NULL};
        EXPECT(1, c1, k ? "foreign.h5" : "garbage.h5");
        const char *c2[] = {"eval", "--checkpoint", bad[k], "--test", valid, NULL};
        EXPECT(1, c2, k ? "foreign.h5" : "garbage.h5");
        const char *c3[] = {"inspect", bad[k], NULL};
        EXPECT(1, c3, k ? "foreign.h5" : "garbage.h5");
        const char *c4[] = {"finetune", "--checkpoint", bad[k], "--train", train, "--valid", valid, "--out", run_dir, NULL};
        EXPECT(1, c4, k ? "foreign.h5" : "garbage.h5");
        const char *c5[] = {"train", "--resume", bad[k], NULL};
        EXPECT(1, c5, k ? "foreign.h5" : "garbage.h5");
    }
    const char *c6[] = {"inspect", foreign, NULL};
    EXPECT(1, c6, "format");
    /* a flipped bit inside a tensor: the whole-file checksum refuses the file
     * before libhdf5 reads it */
    CHECK(corrupt_copy(full, corrupt, "/model/embed.weight"), "corrupt copy of %s", full);
    const char *c6b[] = {"inspect", corrupt, NULL};
    EXPECT(1, c6b, "corrupt.h5", "whole-file checksum mismatch");
    /* ... and resealed (as if the flip happened before the checksum was
     * computed): the tensor's own Fletcher32 checksum names file and dataset */
    CHECK(nt_h5_file_seal(corrupt) == NT_OK, "reseal: %s", nt_errmsg());
    const char *c7[] = {"translate", "--checkpoint", corrupt, NULL};
    EXPECT(1, c7, "corrupt.h5", "/model/embed.weight", "checksum mismatch");
    const char *c8[] = {"eval", "--checkpoint", corrupt, "--test", valid, NULL};
    EXPECT(1, c8, "corrupt.h5", "/model/embed.weight", "checksum mismatch");
    const char *c9[] = {"train", "--resume", corrupt, "--train", train, "--valid", valid, "--steps", "1", NULL};
    EXPECT(1, c9, "corrupt.h5", "/model/embed.weight", "checksum mismatch");

    /* a weights-only file cannot be resumed, but inspects, translates and fine-tunes */
    const char *d1[] = {"train", "--resume", ckpt, NULL};
    EXPECT(1, d1, "weights-only");
    const char *d2[] = {"inspect", ckpt, NULL};
    CHECK(nt_cli_run(d2) == 0 && strstr(nt_cli_out, "weights only") && strstr(nt_cli_out, "vocabulary:   9 tokens"),
          "inspect weights-only: %s", nt_cli_out);
    /* model options cannot change on resume */
    const char *d3[] = {"train", "--resume", full, "--preset", "base", NULL};
    EXPECT(2, d3, "cannot change on --resume");
    /* a checkpoint without recorded data files needs --train/--valid */
    const char *d4[] = {"train", "--resume", full, "--steps", "5", NULL};
    EXPECT(2, d4, "--train and --valid");

    /* fine-tuning on data the vocabulary cannot encode */
    const char *e1[] = {"finetune", "--checkpoint", ckpt, "--train", digits, "--valid", valid, "--out", run_dir,
                        "--steps", "2", NULL};
    EXPECT(1, e1, "vocabulary mismatch", "--extend-vocab");

    /* a run folder is not overwritten by accident */
    mkdir(run_dir, 0777);
    snprintf(p, sizeof p, "%s/metrics.jsonl", run_dir);
    write_file(p, "{\"type\":\"train\",\"step\":1,\"loss\":1}\n");
    const char *e2[] = {"train", "--train", train, "--valid", valid, "--out", run_dir, "--preset", "tiny", "--steps",
                        "2", "--progress", "off", NULL};
    EXPECT(1, e2, "holds a run already", "--overwrite");
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && sb.st_size > 0, "the old run is untouched");

    /* a line the tokenizer cannot read is reported, not fatal (U+2581 in word mode) */
    snprintf(p, sizeof p, "%s/in.txt", nt_scratch);
    write_file(p, "one\n\xe2\x96\x81two\ntwo\n");
    const char *g1[] = {"translate", "--checkpoint", ckpt, "--input", p, "--max-new-tokens", "3", NULL};
    CHECK(nt_cli_run(g1) == 1 && strstr(nt_cli_err, "line 2") && strstr(nt_cli_err, "tokenized") &&
              strstr(nt_cli_err, "1 line could not be translated"),
          "translate: %s", nt_cli_err);
    int lines = 0;
    for (const char *s = nt_cli_out; *s; s++) lines += *s == '\n';
    CHECK(lines == 3, "3 output lines, got %d", lines);

    /* a number model refuses words it does not know, naming them: an empty
     * line, the message, exit 1 at the end; the other lines are translated,
     * each variant of a number exactly as the number */
    write_file(p, "one\nhello one world\n  TWO \ntwo\n");
    CHECK(nt_cli_run(g1) == 1 && strstr(nt_cli_err, "line 2: not in the vocabulary: \"hello\", \"world\"") &&
              strstr(nt_cli_err, "output left empty") && !strstr(nt_cli_err, "line 3") && !strstr(nt_cli_err, "line 1"),
          "unknown words: %s", nt_cli_err);
    char *o[4] = {0};
    int no = 0;
    for (char *q = nt_cli_out, *e; no < 4 && (e = strchr(q, '\n')) != NULL; q = e + 1) *e = 0, o[no++] = q;
    CHECK(no == 4 && o[1][0] == 0 && strcmp(o[2], o[3]) == 0, "outputs: the unknown line empty, '  TWO ' as 'two'");
    /* --no-normalize: as typed ("TWO" is then unknown) */
    const char *g2[] = {"translate", "--checkpoint", ckpt, "--input", p, "--max-new-tokens", "3", "--no-normalize", NULL};
    CHECK(nt_cli_run(g2) == 1 && strstr(nt_cli_err, "line 3: not in the vocabulary: ") && strstr(nt_cli_err, "\"TWO\""), "--no-normalize: %s", nt_cli_err);

    nt_scratch_end();
    return nt_check_report("test_cli_errors");
}
