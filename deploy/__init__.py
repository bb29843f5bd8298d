"""Deployment: the native local stack, container images and Kubernetes manifests."""
