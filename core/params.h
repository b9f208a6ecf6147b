/* params.h - the parameter block: named parameters whose values, gradients
 * and optimizer moments are each one contiguous array (llm.c's layout).
 */
#ifndef NT_PARAMS_H
#define NT_PARAMS_H

#include <stdint.h>

#include "core/tensor.h"

/* Named parameters with values, gradients and optimizer moments each in one
 * contiguous block (llm.c's layout), so an optimizer is one fused loop. */
typedef struct nt_params {
    int count;              /* number of parameters */
    int cap;
    char **names;           /* [count] owned strings */
    nt_tensor *tensors;     /* [count] data/grad point into the blocks */
    int64_t *offsets;       /* [count] element offset of each in the blocks */
    int64_t total;          /* P, total number of floats */
    float *values;          /* (P) */
    float *grads;           /* (P) */
    float *m, *v;           /* (P) optimizer moments; NULL until nt_params_alloc_moments */
    int frozen_any;
    uint8_t *frozen;        /* [count] 1 = no update (fine-tuning); NULL until set */
    uint8_t *flags;         /* [count] NT_PARAM_* as declared */
    int *slots;             /* [slot_cap] name hash table: index + 1, 0 = empty (nt_params_find) */
    int slot_cap;           /* a power of two >= 2 * count, or 0 */
    uint64_t version;       /* bumped whenever values change (nt_params_touch) */
    uint16_t *values_bf16;  /* (P) bf16 copy of values for bf16 products; NULL until used */
    uint64_t bf16_version;  /* the version values_bf16 was converted from */
} nt_params;

/* Flags a model gives each parameter when it declares it (nothing is
 * inferred from names). */
enum {
    NT_PARAM_DECAY = 1,  /* weight decay applies (AdamW's decoupled decay, SGD's L2) */
    NT_PARAM_FROZEN = 2, /* not trainable: the optimizer never updates it */
};

nt_status nt_params_new(nt_params **out);
void nt_params_free(nt_params *p);
/* Declares a parameter with its flags (NT_PARAM_*); returns its index, or -1
 * (message set) if the name is taken, empty, the shape invalid, the flags
 * unknown, or the block already allocated. */
int nt_params_declare(nt_params *p, const char *name, int ndim, const int *shape, unsigned flags);
/* nt_params_declare with NT_PARAM_DECAY (trainable and decayed, as PyTorch's
 * AdamW treats every parameter it is given). */
int nt_params_add(nt_params *p, const char *name, int ndim, const int *shape);
/* Allocates values and grads (zeroed) for everything declared. */
nt_status nt_params_alloc(nt_params *p);
/* Allocates m and v (zeroed); no-op if present. */
nt_status nt_params_alloc_moments(nt_params *p);
nt_tensor *nt_params_get(nt_params *p, int index);
/* Index of a name, or -1. A hash lookup: O(1), so declaring N parameters is O(N). */
int nt_params_find(const nt_params *p, const char *name);
/* Sets every gradient to zero. */
void nt_params_zero_grad(nt_params *p);
/* Marks the values as changed: the bf16 copy (core/bf16.h) is converted
 * again before its next use. nt_optim_step and the weight loaders call it;
 * code that writes values by hand after a bf16 product has run must too. */
void nt_params_touch(nt_params *p);

#endif
