// Package riot decodes Riot match-v5 data and provides the sources that feed it into riftbridge.
package riot
