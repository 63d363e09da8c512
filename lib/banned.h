/*
 * Functions this project never calls; included last by every .c file so a
 * use is a compile error. The safe replacements: snprintf / coord_buf,
 * coord_parse_i64, gmtime_r.
 */
#ifndef COORD_BANNED_H
#define COORD_BANNED_H

#define COORD_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) COORD_BANNED(strcpy)
#undef strcat
#define strcat(x, y) COORD_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) COORD_BANNED(strncpy)
#undef sprintf
#define sprintf(...) COORD_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) COORD_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) COORD_BANNED(strtok)
#undef atoi
#define atoi(x) COORD_BANNED(atoi)
#undef atol
#define atol(x) COORD_BANNED(atol)
#undef gets
#define gets(x) COORD_BANNED(gets)
#undef gmtime
#define gmtime(x) COORD_BANNED(gmtime)
#undef localtime
#define localtime(x) COORD_BANNED(localtime)

#endif
