/* tokenizer.h - character, word and SentencePiece tokenizers: text -> token strings.
 * The vocabulary (token strings <-> ids) is data/vocab.h, included here.
 *
 * char: one token per Unicode code point ("é", "ß", "٣" and the space are
 * one token each).
 * word: SentencePiece's convention: the text is split at spaces, and '-'
 * and ',' are tokens of their own; a token that follows a space carries a
 * leading "▁" (U+2581), and the start of the text counts as following a
 * space: "one thousand, twenty-one" -> ▁one ▁thousand , ▁twenty - one.
 * A space followed by another space (or ending the text) is a bare "▁".
 * Digits: every decimal digit is a token of its own, ASCII 0-9 and the
 * Arabic-Indic U+0660..U+0669 (SentencePiece's split_digits): "123,456" ->
 * ▁1 2 3 , 4 5 6, "80 000" -> ▁8 0 ▁0 0 0, "abc12" -> ▁abc 1 2. This extends
 * DESIGN.md's word rule, under which a digit run is part of its word
 * ("▁123"); a vocabulary records which rule it was built with
 * (nt_vocab_split_digits, the /vocab attribute split_digits), so a
 * checkpoint written before the extension tokenizes as it always did.
 * Decoding concatenates, turns ▁ into spaces and drops the leading one, so
 * decode(encode(x)) == x for every text whose symbols are in the vocabulary.
 * Text containing U+2581 itself cannot be word-tokenized (NT_ERR_FORMAT).
 * spm: the pieces of a SentencePiece model (data/spm.h), which the
 * vocabulary holds: nt_vocab_split in data/vocab.h.
 */
#ifndef NT_DATA_TOKENIZER_H
#define NT_DATA_TOKENIZER_H

#include <stddef.h>

#include "core/status.h"
#include "data/vocab.h" /* nt_tokenizer_kind, nt_vocab */

/* Splits one text into token strings (the tokenizer alone, no vocabulary;
 * word with digits split, the rule nt_vocab_build records: nt_vocab_split
 * applies a vocabulary's own): calls fn(piece, len, user) per token in
 * order. NT_ERR_FORMAT for invalid UTF-8 (or U+2581 in word mode), naming
 * the byte offset. NT_ERR_ARG for spm, which needs its model: use
 * nt_vocab_split. */
nt_status nt_tokenizer_split(nt_tokenizer_kind k, const char *text,
                             void (*fn)(const char *piece, size_t len, void *user), void *user);

/* Adds every token of text (as nt_tokenizer_split gives them) to `set`:
 * the distinct tokens of many texts, in order of first appearance. Errors as
 * nt_tokenizer_split, and NT_ERR_NOMEM; the tokens added before an error
 * stay in the set. */
nt_status nt_tokenizer_collect(nt_tokenizer_kind k, const char *text, nt_strset *set);

#endif
