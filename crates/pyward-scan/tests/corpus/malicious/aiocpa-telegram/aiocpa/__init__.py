from .sync.client import CryptoPay
