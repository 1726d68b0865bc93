/* PromQL expressions: the subset sluice's alert rules evaluate, parsed
 * with positions into a typed tree (promql_parse.c). Semantics follow
 * Prometheus 2.42; what is outside the subset is refused at parse time,
 * naming the construct, so that `sluice validate` says why a rule file
 * that Prometheus accepts will not load here. */
#ifndef SLUICE_PROMQL_H
#define SLUICE_PROMQL_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

typedef enum pq_type {
    PQ_SCALAR,
    PQ_VECTOR, /* instant vector */
    PQ_MATRIX, /* range vector */
    PQ_STRING,
} pq_type;

typedef enum pq_kind {
    PQ_NUMBER,
    PQ_STRING_LIT,
    PQ_SELECTOR,
    PQ_CALL,
    PQ_AGGREGATE,
    PQ_BINARY,
    PQ_UNARY_MINUS,
    PQ_PAREN,
} pq_kind;

typedef enum pq_match_op { PQ_EQ, PQ_NEQ, PQ_RE, PQ_NRE } pq_match_op;

typedef struct pq_matcher {
    char *name, *value;
    pq_match_op op;
    pcre2_code *re; /* PQ_RE, PQ_NRE: the value, fully anchored */
} pq_matcher;

/* Binary operators, by precedence (lowest first), as in Prometheus. */
typedef enum pq_binop {
    PQ_OR,
    PQ_AND,
    PQ_UNLESS,
    PQ_EQL,
    PQ_NEQL,
    PQ_LTE,
    PQ_LSS,
    PQ_GTE,
    PQ_GTR,
    PQ_ADD,
    PQ_SUB,
    PQ_MUL,
    PQ_DIV,
    PQ_MOD,
    PQ_ATAN2,
    PQ_POW,
} pq_binop;

typedef enum pq_aggop { PQ_SUM, PQ_AVG, PQ_COUNT, PQ_MIN, PQ_MAX, PQ_GROUP, PQ_STDDEV, PQ_STDVAR } pq_aggop;

typedef enum pq_func {
    PQ_FN_RATE,
    PQ_FN_IRATE,
    PQ_FN_INCREASE,
    PQ_FN_DELTA,
    PQ_FN_IDELTA,
    PQ_FN_AVG_OVER_TIME,
    PQ_FN_MIN_OVER_TIME,
    PQ_FN_MAX_OVER_TIME,
    PQ_FN_SUM_OVER_TIME,
    PQ_FN_COUNT_OVER_TIME,
    PQ_FN_LAST_OVER_TIME,
    PQ_FN_ABSENT,
    PQ_FN_ABSENT_OVER_TIME,
    PQ_FN_HISTOGRAM_QUANTILE,
    PQ_FN_ABS,
    PQ_FN_CEIL,
    PQ_FN_FLOOR,
    PQ_FN_CLAMP_MIN,
    PQ_FN_CLAMP_MAX,
    PQ_FN_SCALAR,
    PQ_FN_VECTOR,
    PQ_FN_TIME,
} pq_func;

/* A list of label names (by, without, on, ignoring, group_left). */
typedef struct pq_labels {
    char **v;
    size_t n;
} pq_labels;

typedef struct pq_node pq_node;
struct pq_node {
    pq_kind kind;
    pq_type type;
    size_t pos; /* byte offset of its first token in the expression */
    union {
        double number; /* PQ_NUMBER */
        char *string;  /* PQ_STRING_LIT */
        struct {       /* PQ_SELECTOR */
            char *metric; /* NULL when only matchers name it */
            pq_matcher *matchers;
            size_t n_matchers;
            int64_t range_ms;  /* > 0: a range vector */
            int64_t offset_ms;
        } sel;
        struct { /* PQ_CALL */
            pq_func fn;
            const char *name;
            pq_node **args;
            size_t n_args;
        } call;
        struct { /* PQ_AGGREGATE */
            pq_aggop op;
            pq_labels grouping;
            int without;
            pq_node *expr;
        } agg;
        struct { /* PQ_BINARY */
            pq_binop op;
            pq_node *lhs, *rhs;
            int bool_mod;       /* comparison returns 0/1 */
            int matching;       /* on(...) or ignoring(...) given */
            int on;             /* on (1) or ignoring (0) */
            pq_labels labels;   /* of on / ignoring */
            int group;          /* 0: one-to-one; -1 group_left; +1 group_right */
            pq_labels include;  /* of group_left / group_right */
        } bin;
        pq_node *inner; /* PQ_UNARY_MINUS, PQ_PAREN */
    };
};

/* Parse `expr`. Returns the tree, or NULL with "what is wrong" in `err`
 * and its byte offset in *err_pos. */
pq_node *pq_parse(const char *expr, char *err, size_t errlen, size_t *err_pos);
void pq_free(pq_node *n);

/* The longest range any selector of `n` reads, plus its offset, in ms
 * (what the evaluator must keep of each series). */
int64_t pq_lookback_ms(const pq_node *n);

/* Prometheus's duration syntax ("5m", "1h30m", "2d"); -1 if invalid. */
int64_t pq_parse_duration(const char *s, size_t n);

const char *pq_binop_name(pq_binop op);
const char *pq_aggop_name(pq_aggop op);

#endif
