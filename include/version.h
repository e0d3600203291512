/* Version of the project's binaries, shared by the resource scripts and the tools.
 *
 * The file version follows Windows 10's qmgr.dll (7.8, BITS 10.x) because installers decide
 * which BITS features exist from it; the product name tells our build from Microsoft's.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef BITS_VERSION_H
#define BITS_VERSION_H

#define BITS_FILE_VERSION        7,8,20348,1
#define BITS_FILE_VERSION_STR    "7.8.20348.1"
#define BITS_PRODUCT_VERSION     0,1,0,0
#define BITS_PRODUCT_VERSION_STR "0.1.0"
#define BITS_PRODUCT_NAME        "Clean-room BITS for Wine and ReactOS"
#define BITS_COMPANY_NAME        "The clean-room BITS project"
#define BITS_LEGAL               "LGPL-2.1-or-later"

#endif /* BITS_VERSION_H */
