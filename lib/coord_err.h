/* Result codes shared by every library function. */
#ifndef COORD_ERR_H
#define COORD_ERR_H

enum coord_err {
	COORD_OK = 0,
	COORD_ERR_INVALID,     /* input does not parse or validate */
	COORD_ERR_RANGE,       /* parses, but outside the allowed bounds */
	COORD_ERR_NOT_FOUND,   /* the row, key or file does not exist */
	COORD_ERR_CONFLICT,    /* the state forbids the change */
	COORD_ERR_UNAVAILABLE, /* PostgreSQL, Redis or an upstream is unreachable */
	COORD_ERR_SCHEMA,      /* the database schema is older than this binary */
	COORD_ERR_UPSTREAM,    /* an upstream answered, but with a failure or garbage */
	COORD_ERR_IO,          /* local I/O failed */
	COORD_ERR_INTERNAL     /* a bug or an unexpected failure */
};

#endif
