// Package tmpl implements fuka's template strings: {{ ... }} actions inside
// any string of a plan (paths, headers, query values, bodies).
//
// A template is compiled once, when the plan is loaded, against the names the
// plan defines (Names). Rendering walks a few prebuilt nodes and appends to
// the caller's buffer: a request costs no parsing and, for the functions a
// request path uses (variables, randInt, randString, uuid, seq, urlquery and
// base64 of a variable, now), no allocation once the buffers have grown.
//
// # Syntax
//
//	{{ name }}            a variable: a plan var, an extracted value or a feeder column
//	{{ users.name }}      dotted names are plain names (here: column "name" of feeder "users")
//	{{ fn arg arg }}      a function call; an argument is a number, a "string" or a variable
//	{{ fn (fn2 x) }}      a nested call, in parentheses (up to 16 levels)
//	{{ "{{" }}            a literal "{{"
//
// Whitespace inside {{ }} is optional. Strings are double-quoted; \" and \\
// are the only escapes. Numbers are decimal integers ("-3", "10") or
// decimals ("1.5"). Names start with a letter or "_" and go on with letters,
// digits, "_", "." and "-". A name that is a function is always the function,
// so a plan should not define variables named like one (see IsFunc). A
// function that takes no arguments may be used as an argument without
// parentheses: {{ base64 uuid }}.
//
// Unknown variables, unknown functions, wrong argument counts and arguments
// of the wrong kind are errors at compile time (*Error), never at render time.
// Calls whose arguments are all literals (base64 "a:b", env "HOST") are
// evaluated once at compile time.
//
// # Functions
//
//	function                 renders                                                   example output
//	randInt a b              a random integer in [a, b], both inclusive               7
//	randString n             n random letters and digits [A-Za-z0-9], n ≤ 65536       x8KfQ2
//	randItem x y ...         one of its arguments, chosen at random                   b
//	uuid                     a random version 4 UUID                                  0f8fad5b-d9cb-469f-a165-70867728950e
//	seq                      the client's sequence number: 1, 2, 3... per client      3
//	now                      the current time, RFC 3339                               2026-01-02T15:04:05Z
//	now "layout"             the current time in a Go layout                          now "2006-01-02" → 2026-01-02
//	now "unix"               seconds since the Unix epoch                             1767366245
//	now "unixms"             milliseconds since the Unix epoch                        1767366245000
//	base64 s                 s in standard base64, padded                             base64 "a:b" → YTpi
//	urlquery s               s escaped for a URL query (url.QueryEscape)              urlquery "a b&c" → a+b%26c
//	lower s                  s in lower case                                          lower "ABC" → abc
//	upper s                  s in upper case                                          upper "abc" → ABC
//	env "NAME"               the environment variable NAME, read at compile time     env "HOST" → api.example.com
//	env "NAME" "default"     the same, or default when NAME is not set                env "PORT" "8080" → 8080
//
// Integer arguments (randInt, randString) may be variables or nested calls;
// a value that is not a decimal integer then counts as 0, and randInt with
// a > b swaps them. The layout of now and both arguments of env must be
// string literals. A missing environment variable without a default is a
// compile-time error.
//
// randInt, randString, randItem and uuid draw from State.Rand, so a client
// seeded the same way renders the same sequence. seq counts State.Seq up by
// one each time it is rendered. now reads State.Now (time.Now when nil), in
// whatever location that clock returns.
package tmpl
