package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/guard"
)

func init() {
	extraCommands["prices"] = (env).prices
	extraCommands["reprice"] = (env).reprice
	extraCommands["void"] = (env).void
}

// cliTool runs a price or correction tool from the command line and audits
// it as the guard's PostToolUse does for the other doors.
func (e env) cliTool(ctx context.Context, c common, tool string, input any, run func(context.Context, *app) (any, error)) (any, error) {
	a, err := c.openApp(ctx, appOptions{})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	res, err := run(ctx, a)
	details := map[string]any{"input": input}
	if err != nil {
		details["error"] = analytics.ErrorMessage(err)
	} else if s, ok := res.(analytics.AuditSummarizer); ok {
		for k, v := range s.AuditSummary() {
			details[k] = v
		}
	}
	if aerr := e.cliAudit(ctx, a, nil, "", guardAction(tool), details); aerr != nil && err == nil {
		err = aerr
	}
	return res, err
}

func (e env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (e env) prices(ctx context.Context, args []string) error {
	const help = "usage: codestory-analytics prices list [--json] | prices add --file F | prices remove --service S --model M --effective-from YYYY-MM-DD"
	if len(args) == 0 {
		return usageError{help}
	}
	var c common
	switch args[0] {
	case "list":
		fs := e.flags("prices list", &c)
		asJSON := fs.Bool("json", false, "print JSON (as GET /admin/prices)")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		res, err := e.cliTool(ctx, c, analytics.ToolListPrices, nil, func(ctx context.Context, a *app) (any, error) { return a.tools.ListPrices(ctx) })
		if err != nil {
			return err
		}
		list := res.(*analytics.PriceList)
		if *asJSON {
			return e.printJSON(list)
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVICE\tMODEL\tFROM\tSOURCE\tRATES")
		for _, en := range list.Entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", en.Service, en.Model, en.EffectiveFrom, en.Source, en.Rates)
		}
		tw.Flush()
		for _, u := range list.Unpriced {
			fmt.Fprintf(e.stdout, "unpriced: %s %q has %d unpriced calls; add its price, then run 'codestory-analytics reprice --model %s'\n", u.Service, u.Model, u.Calls, u.Model)
		}
		return nil
	case "add":
		fs := e.flags("prices add", &c)
		file := fs.String("file", "", "a JSON file in the --prices format: {\"entries\": [...]}")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		if *file == "" {
			return usageError{"prices add: --file is required"}
		}
		body, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		var in analytics.UpdatePricesInput
		if err := json.Unmarshal(body, &in); err != nil {
			return fmt.Errorf("%s: must be {\"entries\": [...]}: %v", *file, err)
		}
		res, err := e.cliTool(ctx, c, analytics.ToolUpdatePrices, map[string]any{"file": *file}, func(ctx context.Context, a *app) (any, error) {
			return a.tools.UpdatePrices(ctx, in)
		})
		if err != nil {
			return err
		}
		u := res.(*analytics.PricesUpdated)
		fmt.Fprintf(e.stdout, "%d price entries added, %d replaced; run 'codestory-analytics reprice' to apply them to stored calls\n", u.Added, u.Replaced)
		return nil
	case "remove":
		fs := e.flags("prices remove", &c)
		var in analytics.RemovePriceInput
		fs.StringVar(&in.Service, "service", "", "anthropic, elevenlabs or s3")
		fs.StringVar(&in.Model, "model", "", "the entry's model id")
		fs.StringVar(&in.EffectiveFrom, "effective-from", "", "the entry's effective_from, YYYY-MM-DD")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		if _, err := e.cliTool(ctx, c, analytics.ToolRemovePrice, in, func(ctx context.Context, a *app) (any, error) {
			return a.tools.RemovePrice(ctx, in)
		}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed the database price entry %s %s from %s\n", in.Service, in.Model, in.EffectiveFrom)
		return nil
	}
	return usageError{help}
}

func (e env) reprice(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("reprice", &c)
	var in analytics.RepriceInput
	fs.StringVar(&in.Since, "since", "", "first day, YYYY-MM-DD in the reporting zone (default: the first call)")
	fs.StringVar(&in.Until, "until", "", "last day, inclusive (default: the last call)")
	fs.StringVar(&in.Model, "model", "", "only calls to this model id (default: every model)")
	fs.BoolVar(&in.DryRun, "dry-run", false, "report what would change without writing")
	asJSON := fs.Bool("json", false, "print the report as JSON (as POST /admin/prices/reprice)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	res, err := e.cliTool(ctx, c, analytics.ToolReprice, in, func(ctx context.Context, a *app) (any, error) { return a.tools.Reprice(ctx, in) })
	if err != nil {
		return err
	}
	rep := res.(*analytics.RepriceReport)
	if *asJSON {
		return e.printJSON(rep)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tMODEL\tCALLS\tREPRICED\tOLD $\tNEW $\tUNPRICED BEFORE\tAFTER")
	for _, r := range rep.ByModel {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%d\t%d\n", r.Service, r.Model, r.Calls, r.CallsRepriced,
			analytics.FormatScaled(int64(r.OldCost), 6), analytics.FormatScaled(int64(r.NewCost), 6), r.UnpricedBefore, r.UnpricedAfter)
	}
	tw.Flush()
	verb := "repriced"
	if rep.DryRun {
		verb = "would reprice (dry run, nothing written)"
	}
	fmt.Fprintf(e.stdout, "%s %d of %d calls: $%s → $%s; unpriced %d → %d\n", verb, rep.CallsRepriced, rep.CallsExamined,
		analytics.FormatScaled(int64(rep.OldCost), 6), analytics.FormatScaled(int64(rep.NewCost), 6), rep.UnpricedBefore, rep.UnpricedAfter)
	return nil
}

func (e env) void(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("void", &c)
	var in analytics.VoidInput
	fs.StringVar(&in.ID, "id", "", "the id of the event to take out of every figure")
	fs.StringVar(&in.Reason, "reason", "", "why (kept with the void and in the audit log)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if in.ID == "" || in.Reason == "" {
		return usageError{"usage: codestory-analytics void --id ID --reason R"}
	}
	res, err := e.cliTool(ctx, c, analytics.ToolVoidEvent, in, func(ctx context.Context, a *app) (any, error) { return a.tools.VoidEvent(ctx, in) })
	if err != nil {
		return err
	}
	v := res.(*analytics.VoidResult)
	fmt.Fprintf(e.stdout, "event %q voided (void %q): it no longer counts in any figure\n", v.Voided, v.VoidID)
	return nil
}

// guardAction is the audit action of a tool, as the guard names it.
func guardAction(tool string) string { return guard.Action(tool) }
