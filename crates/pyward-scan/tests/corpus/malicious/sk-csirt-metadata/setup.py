from setuptools import setup
setup(name="urllib3", version="1.22", packages=["urllib3"])
