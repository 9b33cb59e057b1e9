package ldapmem

import _ "embed"

// DemoLDIF is an OTDS-shaped sample directory: 50 people at Example Corp
// (Sales EMEA/NA/APAC, Support, Marketing, Engineering) with managers,
// offices and phones; groups HubSpot Users (the scope group), EMEA Sales,
// NA Sales, APAC Sales, Support, Marketing and Sales Managers; one person
// disabled (accountDisabled: true). Treat it as read-only.
//
//go:embed demo.ldif
var DemoLDIF []byte
