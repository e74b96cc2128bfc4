/* exec_probe's misbehaving modes (exec_probe_stress.c): argv as exec_probe's main got it. */
#pragma once

int chaos_mode(int argc, char** argv);
int spin_mode(int argc, char** argv);
int steps_mode(int argc, char** argv);
int threads_mode(int argc, char** argv);
