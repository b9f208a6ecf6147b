/* fixtures.h - test support: where the committed fixtures are (tests/fixtures,
 * or $NT_FIXTURES, which ctest sets to the source tree's).
 *
 *     FILE *f = fopen(nt_fixture_path("optim.txt"), "r");
 */
#ifndef NT_TEST_FIXTURES_H
#define NT_TEST_FIXTURES_H

#include <stddef.h>

/* "<fixtures>/<name>" in one of 8 rotating buffers (valid for the next 7
 * calls); the _to form writes it into buf and returns buf. */
const char *nt_fixture_path(const char *name);
char *nt_fixture_path_to(char *buf, size_t cap, const char *name);

#endif
