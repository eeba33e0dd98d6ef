"""Azure: a VNet with a NAT gateway, AKS with GPU agent pools, a Key Vault for KMS and CMK, a storage
account, ACR and workload identity; the only package that imports `pulumi_azure_native`.
"""
