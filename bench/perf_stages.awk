# perf_stages.awk: group a flat `perf report --sort dso,symbol --stdio` by
# stage of tipstat ingest (bench/run.sh, "where the time goes").
# Input lines: "PCT% DSO [.] SYMBOL ..."; output "PCT%  stage", unsorted.
{ p = $1; sub("%", "", p); dso = $2; sym = $4
	st = "other"
	if (sym ~ /^(csv_parse|set_fields|on_field|scan|csvr_|count_byte|feed|index_buffer|no_space|reserve_arena|utf8_seq|on_row|__memchr|_IO_fread|_IO_file_read|_IO_file_xsgetn)/ || dso ~ /libcsv/) st = "CSV parsing (libcsv + core/csvr)"
	else if (sym ~ /^(ptr_cmp|item_|msort|spill|heap_|extsort_|run_|__memcmp|qsort)/) st = "sorting by pseudonymous key (core/extsort, spills)"
	else if (sym ~ /^(harm_|text_hash|find|period_parse|cl_|hmap_|trim|__strncmp|norm|map_|lookup|parse_int)/) st = "validation and harmonisation (ingest/harmonise)"
	else if (dso ~ /libsodium/ || sym ~ /blake2|generichash/) st = "BLAKE2b (input hash, pseudonyms, output hash)"
	else if (sym ~ /^(format_|write_records|hw_put|text_hex|period_format|_IO_|__vfprintf|__vsnprintf|fwrite|__strlen|__strchr|emit_record|note_row)/) st = "formatting and writing the submission"
	else if (sym ~ /^__mem(move|cpy|set)/) st = "memory copies (memcpy/memmove/memset)"
	else if (dso ~ /kernel/) st = "kernel (read/write syscalls, page cache)"
	else if (sym ~ /^(ingest_run|read_rows)/) st = "ingest driver (inlined pieces of the above)"
	s[st] += p; if (st == "other" && p > 0.2) o = o " " sym }
END { for (k in s) printf "%6.1f%%  %s\n", s[k], k; if (o != "") printf "  (other above 0.2%%:%s)\n", o }
