"""Single sign-on through organisations' OpenID providers."""
