package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// curlCases are command lines as browsers copy them ("Copy as cURL" in
// Chrome and Firefox devtools) and as API docs write them.
var curlCases = []struct {
	name  string
	cmd   string
	files map[string]string // files the plan reads, next to it
	notes []string          // substrings of expected notes
}{
	{
		name: "chrome_get",
		cmd: `curl 'https://shop.example.com/api/products?page=2&sort=price' \
  -H 'accept: application/json, text/plain, */*' \
  -H 'accept-language: en-US,en;q=0.9,ja;q=0.8' \
  -b 'session=abc123; _ga=GA1.2.3' \
  -H 'priority: u=1, i' \
  -H 'referer: https://shop.example.com/products' \
  -H 'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"' \
  -H 'sec-ch-ua-mobile: ?0' \
  -H 'sec-fetch-mode: cors' \
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'`,
	},
	{
		name: "chrome_post_json",
		cmd: `curl 'https://shop.example.com/api/login' \
  -H 'accept: application/json' \
  -H 'content-type: application/json' \
  -H 'origin: https://shop.example.com' \
  --data-raw '{"email":"alice@example.com","password":"s3cret!","remember":true,"attempt":1}'`,
	},
	{
		name: "chrome_dollar_quote",
		cmd: `curl 'https://shop.example.com/api/reviews' \
  -H 'content-type: application/json' \
  --data-raw $'{"author":"O\'Brien","text":"Great\\nshoes \u2014 10/10","stars":5}'`,
	},
	{
		name: "chrome_crlf_continuations",
		cmd:  "curl 'http://127.0.0.1:8080/api/cart/7' \\\r\n  -X 'PUT' \\\r\n  -H 'content-type: application/json' \\\r\n  --data-raw '{\"quantity\":2}'\r\n",
	},
	{
		name:  "firefox_get",
		cmd:   `curl 'https://www.example.org/docs/index.html' --compressed -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0' -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' -H 'Accept-Language: en-US,en;q=0.5' -H 'Accept-Encoding: gzip, deflate, br' -H 'Connection: keep-alive' -H 'Upgrade-Insecure-Requests: 1' -H 'Sec-Fetch-Dest: document' -H 'Host: www.example.org'`,
		notes: []string{"Accept-Encoding dropped", "Host dropped", "--compressed"},
	},
	{
		name:  "firefox_post_form",
		cmd:   `curl 'https://app.example.net/login' -X POST -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0' -H 'Content-Type: application/x-www-form-urlencoded' -H 'Origin: https://app.example.net' -H 'Content-Length: 41' --data-raw 'username=alice&password=s3cret%21&next=%2Fhome'`,
		notes: []string{"Content-Length dropped"},
	},
	{
		name: "docs_form",
		cmd:  `curl -d "name=John+Doe&age=30" -d 'city=Tokyo' http://localhost:8080/users`,
	},
	{
		name:  "basic_auth_insecure",
		cmd:   `curl -u admin:secret -k https://api.example.com:8443/v1/status`,
		notes: []string{"fuka run --insecure"},
	},
	{
		name: "json_flag",
		cmd:  `curl --json '{"q": "shoes", "limit": 10, "filters": {"sizes": [42, 43], "colors": []}}' https://api.example.com/search`,
	},
	{
		name: "get_with_data",
		cmd:  `curl -G -d 'q=rust lang' --data-urlencode 'tag=a&b' --data-urlencode '=raw value' https://example.com/search?lang=en`,
	},
	{
		name: "put_xml",
		cmd:  `curl -X PUT -H "Content-Type: application/xml" -d '<item id="1"><name>Lamp</name></item>' http://127.0.0.1:8080/items/1`,
	},
	{
		name: "env_vars",
		cmd:  `curl -H "Authorization: Bearer $TOKEN" "https://api.example.com/users/${USER_ID}/orders?limit=5" -H 'X-Literal: $notavar'`,
	},
	{
		name:  "short_options_combined",
		cmd:   `curl -sSLk -XDELETE -H'X-Request-Id: 4f1c' https://example.com/api/items/42 -m 2.5`,
		notes: []string{"the plan follows up to 20 redirects", "--insecure"},
	},
	{
		name: "head",
		cmd:  `curl -I -v http://localhost:3000/health`,
	},
	{
		name:  "unknown_options_two_urls",
		cmd:   `curl --frobnicate --http2 -x http://proxy:3128 -o out.json https://example.com/a https://example.com/b | jq .`,
		notes: []string{"unknown curl option --frobnicate", "fuka run --http2", "proxy", "imported the first", `"| jq ."`},
	},
	{
		name:  "data_binary_file",
		cmd:   `curl --data-binary @payload.json -H 'Content-Type: application/json' http://localhost:8080/bulk`,
		files: map[string]string{"payload.json": `[{"id":1},{"id":2}]`},
		notes: []string{"payload.json"},
	},
	{
		name: "literal_braces",
		cmd:  `curl https://mail.example.com/api/templates -H 'content-type: application/json' --data-raw '{"subject":"Hi {{name}}","body":"Dear {{ name }}, see {{{link}}}"}'`,
	},
	{
		name:  "userinfo_no_scheme",
		cmd:   `curl 'bob:pa%40ss@localhost:9000/private?x=1#section'`,
		notes: nil,
	},
	{
		name:  "multipart",
		cmd:   `curl -F 'file=@photo.jpg' -F 'title=Holiday' https://upload.example.com/api/upload`,
		notes: []string{"multipart/form-data"},
	},
	{
		name: "json_charset",
		cmd:  `curl https://api.example.com/v2/things -H 'Content-Type: application/json; charset=utf-8' -d '{"a":[1,2,{"b":null}],"c":true,"d":1.5e3,"e":"007","f":"yes","g":"","h":"- dash","i":{}}'`,
	},
	{
		name:  "user_agent_referer_cookie",
		cmd:   `curl -A 'fuka-test/1.0' -e https://ref.example.com/ -b 'a=1' -b 'b=2' --oauth2-bearer tok.en --max-time 3 'http://[::1]:8080/me'`,
		notes: nil,
	},
}

func TestCurl(t *testing.T) {
	for _, tc := range curlCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Curl(tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "curl_"+tc.name, res.YAML)
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mustCompile(t, dir, res.YAML)
			for _, n := range tc.notes {
				if !hasNote(res.Skipped, n) {
					t.Errorf("no note says %q; notes:\n%s", n, strings.Join(res.Skipped, "\n"))
				}
			}
		})
	}
}

func TestCurlErrors(t *testing.T) {
	tests := []struct {
		name, cmd, want string
	}{
		{"empty", "", "no URL"},
		{"only curl", "curl -s -H 'A: b'", "no URL"},
		{"unterminated quote", "curl 'http://x", "unterminated ' quote"},
		{"unterminated double quote", `curl "http://x`, `unterminated " quote`},
		{"not curl", "wget http://example.com", `not a curl command line: it starts with "wget"`},
		{"ftp", "curl ftp://example.com/file", `scheme "ftp": want http or https`},
		{"no host", "curl http:///path", "bad or missing host"},
		{"trace", "curl -X TRACE http://example.com", `method "TRACE"`},
		{"windows cmd", "curl ^\"http://example.com/^\" ^\n  -H ^\"accept: */*^\"", "Windows cmd"},
		{"missing argument", "curl http://example.com -H", "-H needs an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Curl(tt.cmd)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one that says %q", err, tt.want)
			}
		})
	}
}

func TestShellWords(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"plain", "curl -s http://x", []string{"curl", "-s", "http://x"}},
		{"single quotes", `a 'b c' 'd''e'`, []string{"a", "b c", "de"}},
		{"double quotes", `a "b \"c\" \\ \$ \x"`, []string{"a", `b "c" \ $ \x`}},
		{"ansi-c", `$'a\'b\n\t\x41\u00e9\101\cA'`, []string{"a'b\n\tAé" + "A\x01"}},
		{"continuation", "a \\\n  b \\\r\n c", []string{"a", "b", "c"}},
		{"escaped space", `a\ b c`, []string{"a b", "c"}},
		{"empty word", `a '' b`, []string{"a", "", "b"}},
		{"comment", "a # b c\nd", []string{"a", "d"}},
		{"hash inside word", "a#b", []string{"a#b"}},
		{"pipe ends", "a b | c", []string{"a", "b"}},
		{"literal dollar", `'$HOME' "$1" $`, []string{"$HOME", "$1", "$"}},
		{"function name is literal", `$uuid`, []string{"$uuid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, _, err := shellWords(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") || len(got) != len(tt.want) {
				t.Errorf("shellWords(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	got, vars, _, err := shellWords(`"Bearer $TOKEN" ${HOST}x`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Bearer " + ref("TOKEN"), ref("HOST") + "x"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("words %q, want %q", got, want)
	}
	if strings.Join(vars, ",") != "TOKEN,HOST" {
		t.Errorf("vars %q, want TOKEN, HOST", vars)
	}
}

func FuzzCurl(f *testing.F) {
	for _, tc := range curlCases {
		f.Add(tc.cmd)
	}
	f.Add(`curl $'\x00\xff' -d $'\xff' http://h`)
	f.Add("curl http://h/{{x}} -H 'a: {{'")
	f.Add("curl -G --url-query 'a=%zz' http://h/%")
	f.Fuzz(func(t *testing.T, cmd string) {
		res, err := Curl(cmd)
		if err != nil {
			return
		}
		// A plan that imports must validate, unless it reads a file
		// that is not there.
		if _, err := compile(t.TempDir(), res.YAML); err != nil && !strings.Contains(string(res.YAML), "body_file:") {
			t.Fatalf("Curl(%q) made a plan that does not validate: %v\n%s", cmd, err, res.YAML)
		}
	})
}
