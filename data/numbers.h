/* numbers.h - what people type, read as the number corpora write it: input
 * normalisation for the number-translation task (data/number_corpus.h's forms).
 *
 *     char out[NT_NUMBER_CORPUS_MAX_TEXT];
 *     nt_numbers_normalize("  Forty two ", out, sizeof out);    // "forty-two"
 *     nt_numbers_normalize("one thousand two hundred", ...);    // "one thousand, two hundred"
 *     nt_numbers_normalize("Quatre vingt dix", ...);            // "quatre-vingt-dix"
 *     nt_numbers_normalize("1 000", ...);                       // "1000"
 *
 * Every line is first folded: letters to lower case (ASCII and Latin-1, so
 * "ZÉRO" is "zéro"), spaces around it dropped and runs of spaces made one
 * (the no-break, figure, thin and narrow no-break spaces count as spaces),
 * typographic dashes made '-'. Then, when the words name a number in one of
 * the forms once spelling variants are set aside, the line is that number as
 * the corpus writes it. The variants set aside:
 *   en  space or hyphen between tens and units, "and" and commas (present or
 *       not, anywhere)
 *   fr  space or hyphen between the words of a number below 100 ("vingt et
 *       un", "vingt-et-un"), "et", the plural s of "vingts" and "cents"
 *   de  spaces and hyphens inside the compound ("zwei und vierzig")
 *   digits, arabic  thousands separators: space, comma, '_', apostrophe,
 *       U+066C; leading zeros
 * Anything else (words that name no number, "a hundred", "1.5") keeps its
 * folded text: the model sees it as typed, and its tokens outside the
 * vocabulary are reported by the caller.
 */
#ifndef NT_DATA_NUMBERS_H
#define NT_DATA_NUMBERS_H

#include <stddef.h>

#include "core/status.h"
#include "data/tokenizer.h"

/* Writes the normalised text of `in` (NUL-terminated UTF-8) into out.
 * *number (may be NULL) receives the number it names, or -1 if it names none.
 * NT_ERR_ARG if cap is too small (out holds "" then). */
nt_status nt_numbers_normalize(const char *in, char *out, size_t cap, int *number);

/* 1 if every token of v (specials aside) is a token of some number in some
 * form, as v's tokenizer splits them: v belongs to a number-translation
 * model, whose inputs nt_numbers_normalize suits. */
int nt_numbers_vocab(const nt_vocab *v);

#endif
