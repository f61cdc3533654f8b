package dashboard

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"

	"github.com/fuka-load/fuka/report/html"
)

//go:embed page.tmpl
var pageSource string

//go:embed assets/dashboard.js
var dashboardJS string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// renderPage renders the dashboard page, which is the same for every
// request: the data arrives as events. Like the report, it inlines the
// chart library and allows only its own inline blocks by hash; it may also
// connect back to its own server for the events and the stop button.
func renderPage(canStop bool) (page []byte, csp string, err error) {
	scripts := []string{html.ChartJS, html.ChartsJS, dashboardJS}
	style := html.ChartCSS + "\n" + html.StyleCSS
	csp = html.CSP(scripts, []string{style}, "connect-src 'self'")
	js := make([]template.JS, len(scripts))
	for i, s := range scripts {
		js[i] = template.JS(s)
	}
	var b bytes.Buffer
	err = pageTemplate.Execute(&b, struct {
		CSP     string
		Style   template.CSS
		Scripts []template.JS
		CanStop bool
	}{csp, template.CSS(style), js, canStop})
	if err != nil {
		return nil, "", fmt.Errorf("dashboard: page: %w", err)
	}
	return b.Bytes(), csp, nil
}
