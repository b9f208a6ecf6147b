/* signals.c - SIGINT/SIGTERM set a flag that the training loop polls. */
#include "train/signals.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t pending;
static struct sigaction old_int, old_term;
static int depth;

static void on_signal(int sig) { pending = sig; }

void nt_signals_install(void) {
    if (depth++ > 0) return;
    pending = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void nt_signals_restore(void) {
    if (depth == 0 || --depth > 0) return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int nt_signals_pending(void) { return (int)pending; }
void nt_signals_clear(void) { pending = 0; }
void nt_signals_request(int sig) { pending = sig; }

const char *nt_signals_name(int sig) {
    static char buf[32];
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}
