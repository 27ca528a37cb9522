"""The 一网通办 portal: pages in Chinese for applicants, served by the gateway on the API's origin."""
