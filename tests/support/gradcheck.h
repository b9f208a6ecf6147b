/* gradcheck.h - compares an op's backward against central differences in double.
 *
 * A case builds its output from leaf inputs. The harness seeds the output's
 * gradient with fixed random weights R (so the scalar checked is
 * L = sum(out * R), accumulated in double), runs the op's backward, then for
 * every element x of every F32 input that requires grad computes
 * (L(x + eps) - L(x - eps)) / (2 eps) with grad mode off and compares, per
 * input tensor, in double, relative to the gradient's own scale:
 *   ||analytic - numeric||_2 / max(||numeric||_2, GC_FLOOR) <= tol.
 * (The old per-element |a - n| / max(1, |n|) was an absolute test for small
 * gradients: a 1/(n-1) mean passed it. tests/test_mutation.c proves this one
 * fails on each of a dozen deliberately wrong backward kernels.)
 *
 *     static nt_status build_gelu(nt_ctx *c, nt_tensor **in, nt_tensor **out, void *arg) {
 *         return nt_gelu(c, out, in[0]);
 *     }
 *     nt_tensor *x = gc_input(leaf, NT_F32, 2, (int[]){3, 17}, 1, &rng);  // requires grad
 *     gc_check("gelu 3x17", build_gelu, 1, (nt_tensor *[]){x}, NULL, 1e-2, 1e-3);
 */
#ifndef NT_TEST_GRADCHECK_H
#define NT_TEST_GRADCHECK_H

#include "core/ops.h"

typedef nt_status (*gc_build_fn)(nt_ctx *ctx, nt_tensor **in, nt_tensor **out, void *arg);

/* A leaf input in `ctx` (kept alive by the caller): F32 filled with N(0,1)
 * values (I32 filled with zeros: set them yourself); requires_grad as given. */
nt_tensor *gc_input(nt_ctx *ctx, nt_dtype dt, int ndim, const int *shape, int requires_grad,
                    nt_rng *rng);

/* The floor of the norm: gradients smaller than this count as absolute. */
#define GC_FLOOR 1e-6

/* The worst per-tensor relative error of the case (the metric above),
 * without judging it; printed as one line when verbose. INFINITY if the
 * forward or backward fails. */
double gc_error(const char *name, gc_build_fn build, int n_in, nt_tensor **in, void *arg, double eps,
                int verbose);

/* Runs the check; prints one line per case (and the worst tensor on
 * failure); returns 1 if it passed, 0 if not (also counted as a CHECK). */
int gc_check(const char *name, gc_build_fn build, int n_in, nt_tensor **in, void *arg, double eps,
             double tol);

#endif
