/* Status codes of the Background Intelligent Transfer Service (BG_S_, BG_E_, BITS_MC_).
 *
 * Facility 0x20 holds BITS' own codes (0x0020xxxx successes, 0x8020xxxx failures); the low word
 * is also the message id that GetErrorDescription looks up, so ids are not dense.  HTTP
 * statuses use facility 0x19.  Values follow the project's interface digest, section 8.
 *
 * The result codes are HRESULT-typed, like winerror.h's, so "hr == BG_E_EMPTY" compares
 * without sign warnings; resource and IDL compilers see the bare number.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef __BITSMSG_H__
#define __BITSMSG_H__

/* A 32-bit "long" constant: plain int where long is 64 bits (LP64 hosts). */
#ifndef __MSABI_LONG
# ifdef __LP64__
#  define __MSABI_LONG(x) x
# else
#  define __MSABI_LONG(x) x ## l
# endif
#endif

#if defined(RC_INVOKED) || defined(__WIDL__) || defined(MIDL_PASS)
# define __BITSMSG_HRESULT(x) __MSABI_LONG(x)
#else
# define __BITSMSG_HRESULT(x) ((HRESULT)__MSABI_LONG(x))
#endif

/* BITS 1.0 */
#define BG_E_NOT_FOUND                                  __BITSMSG_HRESULT(0x80200001)
#define BG_E_INVALID_STATE                              __BITSMSG_HRESULT(0x80200002)
#define BG_E_EMPTY                                      __BITSMSG_HRESULT(0x80200003)
#define BG_E_FILE_NOT_AVAILABLE                         __BITSMSG_HRESULT(0x80200004)
#define BG_E_PROTOCOL_NOT_AVAILABLE                     __BITSMSG_HRESULT(0x80200005)
#define BG_S_ERROR_CONTEXT_NONE                         __BITSMSG_HRESULT(0x00200006)
#define BG_E_ERROR_CONTEXT_UNKNOWN                      __BITSMSG_HRESULT(0x80200007)
#define BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER        __BITSMSG_HRESULT(0x80200008)
#define BG_E_ERROR_CONTEXT_LOCAL_FILE                   __BITSMSG_HRESULT(0x80200009)
#define BG_E_ERROR_CONTEXT_REMOTE_FILE                  __BITSMSG_HRESULT(0x8020000A)
#define BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT            __BITSMSG_HRESULT(0x8020000B)
#define BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION   __BITSMSG_HRESULT(0x8020000C)
#define BG_E_DESTINATION_LOCKED                         __BITSMSG_HRESULT(0x8020000D)
#define BG_E_VOLUME_CHANGED                             __BITSMSG_HRESULT(0x8020000E)
#define BG_E_ERROR_INFORMATION_UNAVAILABLE              __BITSMSG_HRESULT(0x8020000F)
#define BG_E_NETWORK_DISCONNECTED                       __BITSMSG_HRESULT(0x80200010)
#define BG_E_MISSING_FILE_SIZE                          __BITSMSG_HRESULT(0x80200011)
#define BG_E_INSUFFICIENT_HTTP_SUPPORT                  __BITSMSG_HRESULT(0x80200012)
#define BG_E_INSUFFICIENT_RANGE_SUPPORT                 __BITSMSG_HRESULT(0x80200013)
#define BG_E_REMOTE_NOT_SUPPORTED                       __BITSMSG_HRESULT(0x80200014)
#define BG_E_NEW_OWNER_DIFF_MAPPING                     __BITSMSG_HRESULT(0x80200015)
#define BG_E_NEW_OWNER_NO_FILE_ACCESS                   __BITSMSG_HRESULT(0x80200016)
#define BG_S_PARTIAL_COMPLETE                           __BITSMSG_HRESULT(0x00200017)
#define BG_E_PROXY_LIST_TOO_LARGE                       __BITSMSG_HRESULT(0x80200018)
#define BG_E_PROXY_BYPASS_LIST_TOO_LARGE                __BITSMSG_HRESULT(0x80200019)
#define BG_S_UNABLE_TO_DELETE_FILES                     __BITSMSG_HRESULT(0x0020001A)

/* BITS 1.5 (upload jobs, credentials) */
#define BG_E_INVALID_SERVER_RESPONSE                    __BITSMSG_HRESULT(0x8020001B)
#define BG_E_TOO_MANY_FILES                             __BITSMSG_HRESULT(0x8020001C)
#define BG_E_LOCAL_FILE_CHANGED                         __BITSMSG_HRESULT(0x8020001D)
#define BG_E_ERROR_CONTEXT_REMOTE_APPLICATION           __BITSMSG_HRESULT(0x8020001E)
#define BG_E_SESSION_NOT_FOUND                          __BITSMSG_HRESULT(0x8020001F)
#define BG_E_TOO_LARGE                                  __BITSMSG_HRESULT(0x80200020)
#define BG_E_STRING_TOO_LONG                            __BITSMSG_HRESULT(0x80200021)
#define BG_E_CLIENT_SERVER_PROTOCOL_MISMATCH            __BITSMSG_HRESULT(0x80200022)
#define BG_E_SERVER_EXECUTE_ENABLE                      __BITSMSG_HRESULT(0x80200023)
/* Same code under the spelling Wine's header used */
#define BG_E_SERVER_EXECUTE_ENABLED                     BG_E_SERVER_EXECUTE_ENABLE
#define BG_E_NO_PROGRESS                                __BITSMSG_HRESULT(0x80200024)
#define BG_E_USERNAME_TOO_LARGE                         __BITSMSG_HRESULT(0x80200025)
#define BG_E_PASSWORD_TOO_LARGE                         __BITSMSG_HRESULT(0x80200026)
#define BG_E_INVALID_AUTH_TARGET                        __BITSMSG_HRESULT(0x80200027)
#define BG_E_INVALID_AUTH_SCHEME                        __BITSMSG_HRESULT(0x80200028)

/* BITS 2.0.  0x8020002F-0x8020003D come from 2.x-era headers and are no longer
 * listed by current SDK metadata; kept for source compatibility */
#define BG_E_FILE_NOT_FOUND                             __BITSMSG_HRESULT(0x80200029)
#define BG_S_PROXY_CHANGED                              __BITSMSG_HRESULT(0x0020002A)
#define BG_E_INVALID_RANGE                              __BITSMSG_HRESULT(0x8020002B)
#define BG_E_OVERLAPPING_RANGES                         __BITSMSG_HRESULT(0x8020002C)
#define BG_E_CONNECT_FAILURE                            __BITSMSG_HRESULT(0x8020002D)
#define BG_E_CONNECTION_CLOSED                          __BITSMSG_HRESULT(0x8020002E)
#define BG_E_KEEP_ALIVE_FAILURE                         __BITSMSG_HRESULT(0x8020002F)
#define BG_E_MESSAGE_LENGTH_LIMIT_EXCEEDED              __BITSMSG_HRESULT(0x80200030)
#define BG_E_NAME_RESOLUTION_FAILURE                    __BITSMSG_HRESULT(0x80200031)
#define BG_E_PENDING                                    __BITSMSG_HRESULT(0x80200032)
#define BG_E_PIPELINE_FAILURE                           __BITSMSG_HRESULT(0x80200033)
#define BG_E_PROTOCOL_ERROR                             __BITSMSG_HRESULT(0x80200034)
#define BG_E_PROXY_NAME_RESOLUTION_FAILURE              __BITSMSG_HRESULT(0x80200035)
#define BG_E_RECEIVE_FAILURE                            __BITSMSG_HRESULT(0x80200036)
#define BG_E_REQUEST_CANCELED                           __BITSMSG_HRESULT(0x80200037)
#define BG_E_SECURE_CHANNEL_FAILURE                     __BITSMSG_HRESULT(0x80200038)
#define BG_E_SEND_FAILURE                               __BITSMSG_HRESULT(0x80200039)
#define BG_E_SERVER_PROTOCOL_VIOLATION                  __BITSMSG_HRESULT(0x8020003A)
#define BG_E_TIMEOUT                                    __BITSMSG_HRESULT(0x8020003B)
#define BG_E_TRUST_FAILURE                              __BITSMSG_HRESULT(0x8020003C)
#define BG_E_UNKNOWN_ERROR                              __BITSMSG_HRESULT(0x8020003D)

/* BITS 2.5 */
#define BG_E_BLOCKED_BY_POLICY                          __BITSMSG_HRESULT(0x8020003E)
#define BG_E_INVALID_PROXY_INFO                         __BITSMSG_HRESULT(0x8020003F)
#define BG_E_INVALID_CREDENTIALS                        __BITSMSG_HRESULT(0x80200040)

/* BITS 3.0 (peer caching, Group Policy limits) */
#define BG_E_INVALID_HASH_ALGORITHM                     __BITSMSG_HRESULT(0x80200041)
#define BG_E_RECORD_DELETED                             __BITSMSG_HRESULT(0x80200042)
#define BG_E_COMMIT_IN_PROGRESS                         __BITSMSG_HRESULT(0x80200043)
#define BG_E_DISCOVERY_IN_PROGRESS                      __BITSMSG_HRESULT(0x80200044)
#define BG_E_UPNP_ERROR                                 __BITSMSG_HRESULT(0x80200045)
#define BG_E_TEST_OPTION_BLOCKED_DOWNLOAD               __BITSMSG_HRESULT(0x80200046)
#define BG_E_PEERCACHING_DISABLED                       __BITSMSG_HRESULT(0x80200047)
#define BG_E_BUSYCACHERECORD                            __BITSMSG_HRESULT(0x80200048)
#define BG_E_TOO_MANY_JOBS_PER_USER                     __BITSMSG_HRESULT(0x80200049)
#define BG_E_TOO_MANY_JOBS_PER_MACHINE                  __BITSMSG_HRESULT(0x80200050)
#define BG_E_TOO_MANY_FILES_IN_JOB                      __BITSMSG_HRESULT(0x80200051)
#define BG_E_TOO_MANY_RANGES_IN_FILE                    __BITSMSG_HRESULT(0x80200052)
#define BG_E_VALIDATION_FAILED                          __BITSMSG_HRESULT(0x80200053)
#define BG_E_MAXDOWNLOAD_TIMEOUT                        __BITSMSG_HRESULT(0x80200054)
#define BG_S_OVERRIDDEN_BY_POLICY                       __BITSMSG_HRESULT(0x00200055)

/* BITS 4.0 */
#define BG_E_TOKEN_REQUIRED                             __BITSMSG_HRESULT(0x80200056)

/* BITS 5.0 (job properties, cost policy) */
#define BG_E_UNKNOWN_PROPERTY_ID                        __BITSMSG_HRESULT(0x80200057)
#define BG_E_READ_ONLY_PROPERTY                         __BITSMSG_HRESULT(0x80200058)
#define BG_E_BLOCKED_BY_COST_TRANSFER_POLICY            __BITSMSG_HRESULT(0x80200059)
#define BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY  __BITSMSG_HRESULT(0x80200060)
#define BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE           __BITSMSG_HRESULT(0x80200061)
#define BG_E_READ_ONLY_PROPERTY_AFTER_RESUME            __BITSMSG_HRESULT(0x80200062)
#define BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE            __BITSMSG_HRESULT(0x80200063)
#define BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED            __BITSMSG_HRESULT(0x80200064)

/* BITS 10.x (Windows 10) */
#define BG_E_STANDBY_MODE                               __BITSMSG_HRESULT(0x80200065)
#define BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED       __BITSMSG_HRESULT(0x80200066)
#define BG_E_BLOCKED_BY_BATTERY_POLICY                  __BITSMSG_HRESULT(0x80200067)
#define BG_E_BLOCKED_BY_BATTERY_SAVER                   __BITSMSG_HRESULT(0x80200068)
#define BG_E_WATCHDOG_TIMEOUT                           __BITSMSG_HRESULT(0x80200069)
#define BG_E_APP_PACKAGE_NOT_FOUND                      __BITSMSG_HRESULT(0x8020006A)
#define BG_E_APP_PACKAGE_SCENARIO_NOT_SUPPORTED         __BITSMSG_HRESULT(0x8020006B)
#define BG_E_DATABASE_CORRUPT                           __BITSMSG_HRESULT(0x8020006C)
#define BG_E_RANDOM_ACCESS_NOT_SUPPORTED                __BITSMSG_HRESULT(0x8020006D)
#define BG_E_BLOCKED_BY_BACKGROUND_ACCESS_POLICY        __BITSMSG_HRESULT(0x8020006E)
#define BG_E_BLOCKED_BY_GAME_MODE                       __BITSMSG_HRESULT(0x8020006F)
#define BG_E_BLOCKED_BY_SYSTEM_POLICY                   __BITSMSG_HRESULT(0x80200070)
#define BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD      __BITSMSG_HRESULT(0x80200071)
#define BG_E_UNSUPPORTED_JOB_CONFIGURATION              __BITSMSG_HRESULT(0x80200072)
#define BG_E_REMOTE_FILE_CHANGED                        __BITSMSG_HRESULT(0x80200073)
#define BG_E_SERVER_CERT_VALIDATION_INTERFACE_REQUIRED  __BITSMSG_HRESULT(0x80200074)
#define BG_E_READ_ONLY_WHEN_JOB_ACTIVE                  __BITSMSG_HRESULT(0x80200075)
#define BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK  __BITSMSG_HRESULT(0x80200076)

/* HTTP status codes reported as errors: 0x80190000 | status (FACILITY_HTTP).  Only these
 * statuses have names; other statuses are reported with the same formula. */
#define BG_E_HTTP_ERROR_100                             __BITSMSG_HRESULT(0x80190064)
#define BG_E_HTTP_ERROR_101                             __BITSMSG_HRESULT(0x80190065)
#define BG_E_HTTP_ERROR_200                             __BITSMSG_HRESULT(0x801900C8)
#define BG_E_HTTP_ERROR_201                             __BITSMSG_HRESULT(0x801900C9)
#define BG_E_HTTP_ERROR_202                             __BITSMSG_HRESULT(0x801900CA)
#define BG_E_HTTP_ERROR_203                             __BITSMSG_HRESULT(0x801900CB)
#define BG_E_HTTP_ERROR_204                             __BITSMSG_HRESULT(0x801900CC)
#define BG_E_HTTP_ERROR_205                             __BITSMSG_HRESULT(0x801900CD)
#define BG_E_HTTP_ERROR_206                             __BITSMSG_HRESULT(0x801900CE)
#define BG_E_HTTP_ERROR_300                             __BITSMSG_HRESULT(0x8019012C)
#define BG_E_HTTP_ERROR_301                             __BITSMSG_HRESULT(0x8019012D)
#define BG_E_HTTP_ERROR_302                             __BITSMSG_HRESULT(0x8019012E)
#define BG_E_HTTP_ERROR_303                             __BITSMSG_HRESULT(0x8019012F)
#define BG_E_HTTP_ERROR_304                             __BITSMSG_HRESULT(0x80190130)
#define BG_E_HTTP_ERROR_305                             __BITSMSG_HRESULT(0x80190131)
#define BG_E_HTTP_ERROR_307                             __BITSMSG_HRESULT(0x80190133)
#define BG_E_HTTP_ERROR_400                             __BITSMSG_HRESULT(0x80190190)
#define BG_E_HTTP_ERROR_401                             __BITSMSG_HRESULT(0x80190191)
#define BG_E_HTTP_ERROR_402                             __BITSMSG_HRESULT(0x80190192)
#define BG_E_HTTP_ERROR_403                             __BITSMSG_HRESULT(0x80190193)
#define BG_E_HTTP_ERROR_404                             __BITSMSG_HRESULT(0x80190194)
#define BG_E_HTTP_ERROR_405                             __BITSMSG_HRESULT(0x80190195)
#define BG_E_HTTP_ERROR_406                             __BITSMSG_HRESULT(0x80190196)
#define BG_E_HTTP_ERROR_407                             __BITSMSG_HRESULT(0x80190197)
#define BG_E_HTTP_ERROR_408                             __BITSMSG_HRESULT(0x80190198)
#define BG_E_HTTP_ERROR_409                             __BITSMSG_HRESULT(0x80190199)
#define BG_E_HTTP_ERROR_410                             __BITSMSG_HRESULT(0x8019019A)
#define BG_E_HTTP_ERROR_411                             __BITSMSG_HRESULT(0x8019019B)
#define BG_E_HTTP_ERROR_412                             __BITSMSG_HRESULT(0x8019019C)
#define BG_E_HTTP_ERROR_413                             __BITSMSG_HRESULT(0x8019019D)
#define BG_E_HTTP_ERROR_414                             __BITSMSG_HRESULT(0x8019019E)
#define BG_E_HTTP_ERROR_415                             __BITSMSG_HRESULT(0x8019019F)
#define BG_E_HTTP_ERROR_416                             __BITSMSG_HRESULT(0x801901A0)
#define BG_E_HTTP_ERROR_417                             __BITSMSG_HRESULT(0x801901A1)
#define BG_E_HTTP_ERROR_449                             __BITSMSG_HRESULT(0x801901C1)
#define BG_E_HTTP_ERROR_500                             __BITSMSG_HRESULT(0x801901F4)
#define BG_E_HTTP_ERROR_501                             __BITSMSG_HRESULT(0x801901F5)
#define BG_E_HTTP_ERROR_502                             __BITSMSG_HRESULT(0x801901F6)
#define BG_E_HTTP_ERROR_503                             __BITSMSG_HRESULT(0x801901F7)
#define BG_E_HTTP_ERROR_504                             __BITSMSG_HRESULT(0x801901F8)
#define BG_E_HTTP_ERROR_505                             __BITSMSG_HRESULT(0x801901F9)

/* Event-log message ids of the service (not returned by any method) */
#define BITS_MC_JOB_CANCELLED                           __MSABI_LONG(0x80194000)
#define BITS_MC_FILE_DELETION_FAILED                    __MSABI_LONG(0x80194001)
#define BITS_MC_FILE_DELETION_FAILED_MORE               __MSABI_LONG(0x80194002)
#define BITS_MC_JOB_PROPERTY_CHANGE                     __MSABI_LONG(0x80194003)
#define BITS_MC_JOB_TAKE_OWNERSHIP                      __MSABI_LONG(0x80194004)
#define BITS_MC_JOB_SCAVENGED                           __MSABI_LONG(0x80194005)
#define BITS_MC_JOB_NOTIFICATION_FAILURE                __MSABI_LONG(0x80194006)
#define BITS_MC_STATE_FILE_CORRUPT                      __MSABI_LONG(0x80194007)
#define BITS_MC_FAILED_TO_START                         __MSABI_LONG(0x80194008)
#define BITS_MC_FATAL_IGD_ERROR                         __MSABI_LONG(0x80194009)
#define BITS_MC_PEERCACHING_PORT                        __MSABI_LONG(0x8019400A)
#define BITS_MC_WSD_PORT                                __MSABI_LONG(0x8019400B)

#endif /* __BITSMSG_H__ */
