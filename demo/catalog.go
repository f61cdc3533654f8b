package demo

import (
	"net/url"
	"strings"
)

// The catalog is 1000 products, ids 1..1000, shown 10 to a page, so pages
// 1..100 exist. Every product and page is derived from its id alone: two runs,
// or two demo servers, give the same bytes, so reports from different runs
// compare like with like.
const (
	productCount = 1000
	pageSize     = 10
	pageCount    = productCount / pageSize
)

// product is one catalog entry as the API shows it.
type product struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

var (
	adjectives = [10]string{"Sturdy", "Tiny", "Classic", "Vintage", "Sleek", "Cozy", "Rugged", "Bright", "Quiet", "Handmade"}
	materials  = [10]string{"Oak", "Steel", "Wool", "Ceramic", "Bamboo", "Leather", "Glass", "Cotton", "Copper", "Linen"}
	nouns      = [10]string{"Chair", "Lamp", "Mug", "Backpack", "Notebook", "Teapot", "Scarf", "Clock", "Bowl", "Shelf"}
)

// productByID builds product id (1..1000). The name picks one word from each
// list by the digits of a scrambled index: multiplying by 337, which shares no
// factor with 1000, is a bijection on 0..999, so all 1000 names differ while
// neighbours on a page do not all share a noun.
func productByID(id int) product {
	i := id - 1
	k := (i*337 + 101) % productCount
	name := adjectives[k%10] + " " + materials[k/10%10] + " " + nouns[k/100]
	cents := 299 + i*7919%19700 // 2.99 to 199.98
	return product{ID: id, Name: name, Price: float64(cents) / 100}
}

// catalog holds every product and page body, marshaled once per app.
type catalog struct {
	products [productCount]body // index id-1
	pages    [pageCount]body    // index page-1
}

func newCatalog() *catalog {
	c := new(catalog)
	var all [productCount]product
	for i := range all {
		all[i] = productByID(i + 1)
		c.products[i] = jsonBody(all[i])
	}
	for p := range c.pages {
		c.pages[p] = jsonBody(all[p*pageSize : (p+1)*pageSize])
	}
	return c
}

// parseID returns the product id in s and whether it names a product.
func parseID(s string) (int, bool) {
	id, ok := atoi(s)
	return id, ok && id >= 1 && id <= productCount
}

// atoi parses a short run of decimal digits. Unlike strconv.Atoi it allocates
// nothing on bad input (no *NumError), so a load test that sends bad ids or
// pages costs the server no more than one that sends good ones; and it takes
// no sign, since no id or page has one.
func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 { // 9 digits cannot overflow an int
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parsePage returns the page asked for in a raw query string: 1 when there is
// no page parameter, and ok=false when its value is not a page that exists.
// It scans the raw query instead of calling URL.Query, which builds a map per
// request on the endpoint a browse scenario calls most.
func parsePage(rawQuery string) (page int, ok bool) {
	v, found := queryValue(rawQuery, "page")
	if !found {
		return 1, true
	}
	if strings.ContainsAny(v, "%+") { // rare: only escaped values pay for unescaping
		var err error
		if v, err = url.QueryUnescape(v); err != nil {
			return 0, false
		}
	}
	page, ok = atoi(v)
	return page, ok && page >= 1 && page <= pageCount
}

// queryValue returns the first raw (still escaped) value of key in a raw query
// string, like URL.Query().Get but without building a map.
func queryValue(rawQuery, key string) (string, bool) {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if k, v, _ := strings.Cut(pair, "="); k == key {
			return v, true
		}
	}
	return "", false
}
