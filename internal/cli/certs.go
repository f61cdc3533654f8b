package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/cluster"
)

func newCerts(stdio Stdio) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Create the CA and certificates that controller and workers use (mutual TLS)",
		Long: `certs makes the certificates of a distributed run. Every controller and worker
certificate comes from one CA of your own, and names its role (controller or
worker) in a URI SAN (fuka://role/worker): each side accepts only the other
role, issued by that CA and not expired, and refuses anything else in the TLS
handshake.

Keep ca-key.pem where you issue certificates, not on the load hosts: copy
ca.pem and one role's certificate and key to each host.`,
		Example: `  fuka certs init --dir certs
  fuka certs issue --dir certs --role controller --name ctl
  fuka certs issue --dir certs --role worker --name loadgen-1`,
	}
	cmd.AddCommand(newCertsInit(stdio), newCertsIssue(stdio))
	return cmd
}

func newCertsInit(stdio Stdio) *cobra.Command {
	var dir, name string
	var days int
	var force bool
	cmd := &cobra.Command{
		Use:     "init --dir DIR",
		Short:   "Create a CA: DIR/ca.pem and DIR/ca-key.pem (ECDSA P-256)",
		Example: "  fuka certs init --dir certs",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ca, err := cluster.InitCA(dir, name, time.Duration(days)*24*time.Hour, force)
			if err != nil {
				return err
			}
			cert, key := cluster.CAFiles(dir)
			fmt.Fprintf(stdio.Out, "CA %q, valid until %s: %s, %s (keep the key off the load hosts)\n",
				name, ca.Cert.NotAfter.Format(time.DateOnly), cert, key)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "`DIR` for the CA's files")
	fl.StringVar(&name, "name", "fuka CA", "the CA's name")
	fl.IntVar(&days, "days", 365, "how long the CA is valid")
	fl.BoolVar(&force, "force", false, "overwrite existing files")
	return cmd
}

func newCertsIssue(stdio Stdio) *cobra.Command {
	var dir, roleName, name, out string
	var hosts []string
	var days int
	var force bool
	cmd := &cobra.Command{
		Use:   "issue --dir DIR --role worker|controller --name NAME",
		Short: "Issue a controller or worker certificate from the CA in DIR",
		Long: `issue writes DIR/ROLE.pem and DIR/ROLE-key.pem (or --out BASE.pem and
BASE-key.pem), signed by DIR/ca.pem and DIR/ca-key.pem. One worker certificate
may serve every worker; issue one per host to tell them apart in logs.`,
		Example: `  fuka certs issue --dir certs --role controller --name ctl --host 10.0.0.5
  fuka certs issue --dir certs --role worker --name loadgen-1 --out certs/loadgen-1`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			base, notAfter, err := cluster.IssueFiles(cluster.IssueRequest{Dir: dir, Role: cluster.Role(roleName), Name: name, Hosts: hosts,
				ValidFor: time.Duration(days) * 24 * time.Hour, Base: out, Force: force})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdio.Out, "%s certificate %q, valid until %s: %s.pem, %s-key.pem\n", roleName, name, notAfter.Format(time.DateOnly), base, base)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "`DIR` of the CA (ca.pem, ca-key.pem)")
	fl.StringVar(&roleName, "role", "", "worker or controller")
	fl.StringVar(&name, "name", "", "the certificate's name (shown in logs and refusals)")
	fl.StringArrayVar(&hosts, "host", nil, "`HOST` (DNS name or IP) to add as a SAN (repeatable; fuka checks CA and role, not host names)")
	fl.StringVar(&out, "out", "", "write `BASE`.pem and BASE-key.pem (default DIR/ROLE)")
	fl.IntVar(&days, "days", 365, "how long the certificate is valid (at most as long as the CA)")
	fl.BoolVar(&force, "force", false, "overwrite existing files")
	return cmd
}
