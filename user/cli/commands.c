// SPDX-License-Identifier: BSD-2-Clause
/* The commands, in the order --help, the man page and the completion
 * list them; each one's table lives beside its code (cmd_*.c). */
#include "cli/options.h"

extern const struct cli_command cmd_run_def, cmd_replay_def, cmd_flows_def,
    cmd_sources_def, cmd_stats_def, cmd_status_def, cmd_clusters_def,
    cmd_block_def, cmd_allow_def, cmd_tuple_def, cmd_detach_def;

const struct cli_command *const cli_commands[] = {
    &cmd_run_def,   &cmd_replay_def, &cmd_flows_def,	&cmd_sources_def,
    &cmd_stats_def, &cmd_status_def, &cmd_clusters_def, &cmd_block_def,
    &cmd_allow_def, &cmd_tuple_def,  &cmd_detach_def,	NULL,
};
