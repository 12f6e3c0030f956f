package postgres

import "errors"

var errTODO = errors.New("postgres: not implemented yet")
