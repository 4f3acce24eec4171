module github.com/target-go/sdk

go 1.26.0
