/* vec: growing arrays of plain structs.
 *
 * Lists read from the warehouse (budgets, spends, accounts, keys, ...) are
 * returned as one malloc'd array and a count, which the caller frees with
 * free().  vec_push appends one zeroed element, doubling the capacity as
 * needed, so that every such reader grows its array the same way and has
 * one out-of-memory path.
 */
#ifndef TIPSTAT_VEC_H
#define TIPSTAT_VEC_H

#include <stddef.h>

/* Append a zeroed element of elsz bytes to the array whose pointer is at
 * arrp (a T **, passed as void * so that any element type fits without
 * a cast; *n elements, room for *cap); returns the new element, or NULL
 * (nothing changed) when memory runs out. */
void *vec_push(void *arrp, size_t *n, size_t *cap, size_t elsz);

#endif
