/* utf8.h - UTF-8 validation, decoding and encoding (RFC 3629), the one copy
 * every reader of text uses (the TSV reader, the tokenizers, BLEU/chrF, the
 * HTML report).
 *
 * Valid means: 1..4 bytes, shortest form only, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF.
 *
 *     size_t bad;
 *     if (!nt_utf8_valid(s, len, &bad)) ... s[bad] starts the first bad sequence
 *     uint32_t cp;
 *     size_t n = nt_utf8_decode(s, len, &cp);   // 1..4 bytes read, 0 if invalid
 *     char out[4];
 *     size_t k = nt_utf8_encode(cp, out);       // 1..4 bytes written
 */
#ifndef NT_DATA_UTF8_H
#define NT_DATA_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 if s[0..len) is valid UTF-8 (NUL bytes allowed), else 0 and *bad_at =
 * the offset of the first bad byte (bad_at may be NULL). */
int nt_utf8_valid(const char *s, size_t len, size_t *bad_at);

/* Decodes the sequence at s, reading at most len bytes: returns its length
 * (1..4) and the code point in *cp, or 0 if it is invalid or cut off by len
 * (*cp unchanged). len == 0 returns 0. */
size_t nt_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Writes code point cp (<= U+10FFFF, not a surrogate: the caller's
 * contract) to out as 1..4 bytes; returns the count. */
size_t nt_utf8_encode(uint32_t cp, char out[4]);

#endif
