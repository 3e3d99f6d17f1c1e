package templates_test

import (
	"fmt"

	"github.com/hookkit-dev/hookkit/templates"
)

// Render executes a template and gofmt-s Go output; the data carries every name already decided.
func ExampleRender() {
	src, err := templates.Render(templates.RoutesTmpl, templates.Routes{
		Package: "main",
		Hookkit: "github.com/hookkit-dev/hookkit",
		Handlers: []templates.Handler{
			{Method: "OnQEMUPrepare", Func: "onQEMUPrepare"},
			{Method: "OnNetworkPortCreated", Func: "onNetworkPortCreated"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(src))
	// Output:
	// package main
	//
	// import (
	// 	"github.com/hookkit-dev/hookkit/hookkit"
	// )
	//
	// // registerHandlers registers every function of the package marked with a //hookkit:handle directive.
	// func registerHandlers(r *hookkit.Router) {
	// 	r.OnQEMUPrepare(onQEMUPrepare)
	// 	r.OnNetworkPortCreated(onNetworkPortCreated)
	// }
}
