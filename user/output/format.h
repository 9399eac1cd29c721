/* SPDX-License-Identifier: BSD-2-Clause */
/* Output format of reports and records: text for people, JSON lines for
 * programs. */
#ifndef HS_USER_OUTPUT_FORMAT_H
#define HS_USER_OUTPUT_FORMAT_H

enum out_format { FMT_TEXT = 0, FMT_JSON };

#endif
