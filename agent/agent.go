package agent

import (
	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

var _ = anthropic.NewClient
var _ = option.WithBaseURL
