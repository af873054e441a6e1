/* sandbox_internal.h: shared between the files of sandbox/ only. */
#ifndef LDS_SANDBOX_INTERNAL_H
#define LDS_SANDBOX_INTERNAL_H

/* Installs the child's seccomp filter (sets no_new_privs). Returns 0 or -1. */
int lds_sandbox_seccomp_install(void);

#endif
