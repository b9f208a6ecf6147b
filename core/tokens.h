/* tokens.h - the special token ids of the checkpoint contract (DESIGN.md),
 * the one enum every layer uses: the vocabularies (data/vocab.h) store these
 * tokens under these names, generation (nn/generate.h) starts sequences with
 * <bos> and stops at <eos>, batches pad with <pad>.
 *
 *     id  name     meaning
 *     0   <pad>    padding: masked in attention, ignored by the loss
 *     1   <bos>    begins every decoder sequence
 *     2   <eos>    ends every sequence
 *     3   <unk>    a token outside the vocabulary (never with byte fallback)
 *     4   <sep>    separates source from target in a decoder-only model
 */
#ifndef NT_CORE_TOKENS_H
#define NT_CORE_TOKENS_H

enum {
    NT_TOK_PAD = 0,
    NT_TOK_BOS = 1,
    NT_TOK_EOS = 2,
    NT_TOK_UNK = 3,
    NT_TOK_SEP = 4,
    NT_TOK_N_SPECIAL = 5 /* the ordinary tokens start here */
};

#endif
