/* Service control for the Wine-only units: stop, start and kill the BITS service of the
 * current prefix, and reconnect the unit's manager (util.h's test_manager) afterwards.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef BITS_TESTS_WINE_BITSCTL_H
#define BITS_TESTS_WINE_BITSCTL_H

#include "../util.h"

/* The process of the running service, 0 when it does not run. */
DWORD bitsctl_pid(void);
/* "net stop BITS" and "net start BITS": TRUE once the service is STOPPED or RUNNING. */
BOOL bitsctl_stop(void);
BOOL bitsctl_start(void);
/* TerminateProcess of the service's process (found with QueryServiceStatusEx); TRUE once the
 * process is gone.  Under Wine RpcSs is killed and started again too (see bitsctl.c). */
BOOL bitsctl_kill(void);
/* Releases a proxy (an interface pointer of the service, passed by address) and sets it to
 * NULL.  Every proxy of a stopped or killed service process must be released this way after
 * the process is gone and before the service starts again (see bitsctl.c). */
void bitsctl_drop(void *proxy);
/* bitsctl_drop() of test_manager. */
void bitsctl_drop_manager(void);
/* Creates test_manager again (bitsctl_drop_manager() first), retrying for a while: the
 * service starts on demand. */
BOOL bitsctl_reconnect(void);
/* "net stop BITS", then the proxies dropped (JOBS, COUNT of them, then the manager), BETWEEN
 * called while the service is stopped (may be NULL), "net start BITS" and a new manager.  With
 * IDS, JOBS[i] is then found again by IDS[i].  TRUE when all of it worked; failures are
 * reported. */
BOOL bitsctl_restart(IBackgroundCopyJob **jobs, const GUID *ids, unsigned int count,
        void (*between)(void *context), void *context);
/* After bitsctl_kill() and the drop of every proxy: the service started again and the manager
 * reconnected, with one more kill when Wine's service control manager or RpcSs did not
 * recover (see bitsctl.c). */
BOOL bitsctl_recover(void);
/* The store's path for a job: %ALLUSERSPROFILE%\Microsoft\Network\Downloader\job-{GUID}SUFFIX,
 * written to PATH (MAX_PATH characters); SUFFIX ".bits", ".bits.bad"... */
void bitsctl_entry_path(const GUID *id, const WCHAR *suffix, WCHAR *path);
/* Whether an HRESULT says the service process went away during the call. */
BOOL bitsctl_is_disconnect(HRESULT hr);

#endif /* BITS_TESTS_WINE_BITSCTL_H */
