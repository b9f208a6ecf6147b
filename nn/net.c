/* net.c - the model interface: configuration attributes, the registry of
 * model kinds, and the checks every model passes. */
#include "nn/net.h"

#include <string.h>

#include "nn/model.h"

/* ---- attributes --------------------------------------------------------------- */

void nt_attrs_init(nt_attrs *a) {
    if (a) memset(a, 0, sizeof *a);
}

const nt_attr *nt_attrs_find(const nt_attrs *a, const char *name) {
    if (!a || !name) return NULL;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->a[i].name, name) == 0) return &a->a[i];
    return NULL;
}

/* The slot for `name`: the existing one, or a new one at the end. */
static nt_status attrs_slot(nt_attrs *a, const char *name, nt_attr **out) {
    if (!a || !name || !*name) return nt_error(NT_ERR_ARG, "nt_attrs_set: NULL set or empty name");
    if (strlen(name) >= NT_ATTR_NAME_MAX)
        return nt_error(NT_ERR_ARG, "nt_attrs_set: attribute name '%.40s...' longer than %d bytes",
                        name, NT_ATTR_NAME_MAX - 1);
    nt_attr *at = (nt_attr *)nt_attrs_find(a, name);
    if (!at) {
        if (a->n == NT_ATTRS_MAX)
            return nt_error(NT_ERR_ARG, "nt_attrs_set: '%s': more than %d attributes", name, NT_ATTRS_MAX);
        at = &a->a[a->n];
        memset(at, 0, sizeof *at);
        memcpy(at->name, name, strlen(name) + 1);
        a->n++;
    }
    *out = at;
    return NT_OK;
}

nt_status nt_attrs_set_int(nt_attrs *a, const char *name, int64_t v) {
    nt_attr *at = NULL;
    NT_TRY(attrs_slot(a, name, &at));
    at->type = NT_ATTR_INT, at->i = v, at->d = (double)v, at->s[0] = 0;
    return NT_OK;
}

nt_status nt_attrs_set_double(nt_attrs *a, const char *name, double v) {
    nt_attr *at = NULL;
    NT_TRY(attrs_slot(a, name, &at));
    at->type = NT_ATTR_DOUBLE, at->d = v, at->i = 0, at->s[0] = 0;
    return NT_OK;
}

nt_status nt_attrs_set_str(nt_attrs *a, const char *name, const char *v) {
    if (!v) return nt_error(NT_ERR_ARG, "nt_attrs_set_str: '%s': NULL value", name ? name : "?");
    size_t n = strlen(v);
    if (n >= NT_ATTR_STR_MAX)
        return nt_error(NT_ERR_ARG, "nt_attrs_set_str: '%s': value of %zu bytes, at most %d", name ? name : "?",
                        n, NT_ATTR_STR_MAX - 1);
    nt_attr *at = NULL;
    NT_TRY(attrs_slot(a, name, &at));
    at->type = NT_ATTR_STR, at->i = 0, at->d = 0;
    memcpy(at->s, v, n + 1);
    return NT_OK;
}

nt_status nt_attrs_get_int(const nt_attrs *a, const char *name, int64_t lo, int64_t hi, int *v) {
    const nt_attr *at = nt_attrs_find(a, name);
    if (!at) return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' missing", name);
    if (at->type != NT_ATTR_INT) return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' is not an integer", name);
    if (at->i < lo || at->i > hi)
        return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' = %lld outside [%lld, %lld]", name,
                        (long long)at->i, (long long)lo, (long long)hi);
    if (v) *v = (int)at->i;
    return NT_OK;
}

nt_status nt_attrs_get_double(const nt_attrs *a, const char *name, double *v) {
    const nt_attr *at = nt_attrs_find(a, name);
    if (!at) return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' missing", name);
    if (at->type == NT_ATTR_STR) return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' is not a number", name);
    if (v) *v = at->type == NT_ATTR_INT ? (double)at->i : at->d;
    return NT_OK;
}

nt_status nt_attrs_get_str(const nt_attrs *a, const char *name, char *buf, size_t cap) {
    const nt_attr *at = nt_attrs_find(a, name);
    if (!at) return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' missing", name);
    if (at->type != NT_ATTR_STR) return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' is not a string", name);
    size_t n = strlen(at->s);
    if (!buf || n >= cap)
        return nt_error(NT_ERR_FORMAT, "/config: attribute '%s' is longer than %zu bytes", name, cap ? cap - 1 : 0);
    memcpy(buf, at->s, n + 1);
    return NT_OK;
}

/* ---- the model interface -------------------------------------------------------------- */

void nt_net_free(nt_net *net) {
    if (net && net->ops && net->ops->free) net->ops->free(net);
}

int64_t nt_net_num_params(const nt_net *net) {
    if (!net || !net->params) return 0;
    int64_t n = 0;
    for (int i = 0; i < net->params->count; i++) n += net->params->tensors[i].n;
    return n;
}

nt_status nt_net_check(const nt_net *net) {
    if (!net) return nt_error(NT_ERR_ARG, "model is NULL");
    const nt_net_ops *o = net->ops;
    if (!o || !o->arch || !*o->arch) return nt_error(NT_ERR_ARG, "model: ops or ops->arch is missing");
    if (!o->loss || !o->config || !o->free)
        return nt_error(NT_ERR_ARG, "model '%s': ops->%s is missing", o->arch,
                        !o->loss ? "loss" : !o->config ? "config" : "free");
    if (!net->params || !net->params->values)
        return nt_error(NT_ERR_ARG, "model '%s': parameters not declared and allocated", o->arch);
    if (net->vocab_size < 5)
        return nt_error(NT_ERR_ARG, "model '%s': vocab_size %d must count the 5 special tokens", o->arch,
                        net->vocab_size);
    if (net->max_len < 0) return nt_error(NT_ERR_ARG, "model '%s': max_len %d < 0", o->arch, net->max_len);
    return NT_OK;
}

/* ---- the registry ---------------------------------------------------------------------- */

enum { REGISTRY_MAX = 32 };

typedef struct registered {
    char arch[NT_ATTR_NAME_MAX];
    nt_net_create_fn create;
} registered;

/* The built-in kinds first; user kinds appended (or replacing). */
static registered registry[REGISTRY_MAX] = {
    {"encdec", nt_model_create_net},
    {"decoder", nt_model_create_net},
};
static int n_registered = 2;

nt_status nt_net_register(const char *arch, nt_net_create_fn create) {
    if (!arch || !*arch || !create) return nt_error(NT_ERR_ARG, "nt_net_register: empty arch or NULL create");
    if (strlen(arch) >= NT_ATTR_NAME_MAX)
        return nt_error(NT_ERR_ARG, "nt_net_register: arch '%.40s...' too long", arch);
    for (int i = 0; i < n_registered; i++)
        if (strcmp(registry[i].arch, arch) == 0) {
            registry[i].create = create;
            return NT_OK;
        }
    if (n_registered == REGISTRY_MAX)
        return nt_error(NT_ERR_ARG, "nt_net_register: '%s': the registry is full (%d kinds)", arch, REGISTRY_MAX);
    memcpy(registry[n_registered].arch, arch, strlen(arch) + 1);
    registry[n_registered].create = create;
    n_registered++;
    return NT_OK;
}

nt_status nt_net_create(nt_net **out, const nt_attrs *cfg) {
    if (!out || !cfg) return nt_error(NT_ERR_ARG, "nt_net_create: NULL argument");
    char arch[NT_ATTR_NAME_MAX];
    NT_TRY(nt_attrs_get_str(cfg, "arch", arch, sizeof arch));
    for (int i = 0; i < n_registered; i++)
        if (strcmp(registry[i].arch, arch) == 0) {
            nt_net *net = NULL;
            NT_TRY(registry[i].create(&net, cfg));
            nt_status s = nt_net_check(net);
            if (s != NT_OK) {
                nt_net_free(net);
                return nt_error_wrap(NT_ERR_FORMAT, "model arch '%s'", arch);
            }
            *out = net;
            return NT_OK;
        }
    char list[512] = "";
    size_t k = 0;
    for (int i = 0; i < n_registered && k < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", registry[i].arch);
    return nt_error(NT_ERR_FORMAT, "unknown model arch '%s' (registered: %s; a program with its own "
                    "model registers it with nt_net_register)", arch, list);
}
