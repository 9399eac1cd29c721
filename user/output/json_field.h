/* SPDX-License-Identifier: BSD-2-Clause */
/* One-line reads and writes of JSON object fields, shared by the report,
 * record and summary writers. */
#ifndef HS_USER_JSON_FIELD_H
#define HS_USER_JSON_FIELD_H

#include <stdint.h>

#include <json-c/json.h>

/* The field as a string; "" when absent. */
static inline const char *json_field_str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
						   : "";
}

/* The field as an integer; 0 when absent. */
static inline uint64_t json_field_u64(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v)
		   ? (uint64_t)json_object_get_int64(v)
		   : 0;
}

static inline void json_set_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static inline void json_set_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

#endif
