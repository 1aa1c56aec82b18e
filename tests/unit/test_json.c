/* json: known documents, escapes, and malformed inputs with positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sysexits.h>
#include "core/json.h"

static void test_parse_manifest(void **state)
{
	(void)state;
	const char *t = "{\n  \"kind\": \"records\",\n  \"countries\": [\"DEU\", \"AUT\"],\n"
	                "  \"rows\": {\"read\": 12, \"ok\": true, \"x\": null},\n"
	                "  \"esc\": \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\n\"\n}";
	json_doc doc;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(json_parse(t, strlen(t), "m.json", &doc, &d), 0);
	assert_string_equal(json_get_str(doc.root, "kind"), "records");
	const json_value *c = json_get(doc.root, "countries");
	assert_non_null(c);
	assert_int_equal(c->type, JSON_ARRAY);
	assert_int_equal(c->len, 2);
	assert_string_equal(c->items[1]->str, "AUT");
	const json_value *rows = json_get(doc.root, "rows");
	assert_true(json_get(rows, "read")->num == 12.0);
	assert_int_equal(json_get(rows, "ok")->type, JSON_BOOL);
	assert_int_equal(json_get(rows, "x")->type, JSON_NULL);
	assert_string_equal(json_get_str(doc.root, "esc"), "a\"b\\cé\xf0\x9f\x98\x80\n");
	assert_null(json_get(doc.root, "missing"));
	json_free(&doc);
	diag_free(&d);
}

static void expect_error(const char *t, const char *where_msg)
{
	json_doc doc;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(json_parse(t, strlen(t), "x.json", &doc, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_int_equal(d.n_items, 1);
	char line[256];
	diag_format(&d.items[0], line, sizeof line);
	assert_string_equal(line, where_msg);
	diag_free(&d);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error("{\"a\": 1,}", "x.json:1:9: error: expected a member name");
	expect_error("[1, 2", "x.json:1:6: error: expected ',' or ']'");
	expect_error("{\"a\"\n 1}", "x.json:2:2: error: expected ':'");
	expect_error("\"abc", "x.json:1:2: error: unterminated string");
	expect_error("[01]", "x.json:1:2: error: leading zero in number");
	expect_error("{} x", "x.json:1:4: error: trailing characters after the document");
	expect_error("\"\\ud800\"", "x.json:1:8: error: unpaired surrogate");
	expect_error("\"a\xff\"", "x.json:1:3: error: invalid UTF-8 in string");
	expect_error("", "x.json:1:1: error: unexpected end of input");
	char deep[80];
	memset(deep, '[', 40);
	deep[40] = '\0';
	expect_error(deep, "x.json:1:34: error: nesting too deep");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_manifest),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
