/* lpguard (lpg_): GLPK's fatal errors turned into a -1 with a diag.
 *
 * GLPK does not return errors from its allocator: when malloc fails (or its
 * memory limit, glp_mem_limit, is reached) or an internal check trips, it
 * prints a message and calls abort(), unless an error hook installed with
 * glp_error_hook jumps away first.  tipstat must not die of an allocation
 * failure in a library, so every stretch of GLPK calls in privacy/ runs
 * under a guard:
 *
 *     lpguard g;
 *     lpg_arm(&g);
 *     if (setjmp(g.jb)) {
 *             ...free what this function allocated, forget GLPK objects...
 *             return lpg_fail(&g, "suppress", d);
 *     }
 *     ...GLPK calls...
 *     lpg_disarm();          (on every way out of the stretch)
 *
 * On a GLPK error the hook frees the calling thread's whole GLPK
 * environment (glp_free_env: GLPK leaves it in an undefined state, and this
 * frees every block it holds, so nothing leaks) and jumps back to the
 * setjmp.  Every GLPK object of that thread is then gone: the function must
 * not delete its problem object, and any other owner (the audit attacker)
 * must forget its own (sdca_attacker_lp_lost).  While armed, GLPK's
 * terminal output is captured into the guard (library code never prints);
 * the first line of it becomes the diag message.
 *
 * The hooks live in GLPK's per-thread environment and point at the guard on
 * the caller's stack, hence the rules: a guarded stretch never calls
 * another guarded function (guards do not nest), and lpg_disarm runs before
 * the function returns.  Variables read after the jump must not change
 * after setjmp (C11 7.13.2.1): allocate before arming. */
#ifndef TIPSTAT_PRIVACY_LPGUARD_H
#define TIPSTAT_PRIVACY_LPGUARD_H

#include <setjmp.h>
#include <stddef.h>
#include "core/diag.h"

typedef struct lpguard {
	jmp_buf jb;
	char msg[200]; /* GLPK's output while armed (its error text) */
	size_t len;
} lpguard;

/* Route GLPK's errors and output in this thread to g. */
void lpg_arm(lpguard *g);
/* Remove the hooks (GLPK's defaults again). */
void lpg_disarm(void);
/* After the jump: -1 with "<who>: the LP solver failed: <GLPK's message>",
 * EX_OSERR when GLPK ran out of memory, EX_SOFTWARE otherwise. */
int lpg_fail(const lpguard *g, const char *who, diag *d);

#endif
